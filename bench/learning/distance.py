"""Whether a model finds a named object wherever its answer stands, or only at the distance it was trained at.

  python bench/learning/distance.py --model DIR --pool DIR/traces.jsonl [--scenes 600] [--shifts 0,2,5,10,20] [--no-system] [--value]

For a model of the first recipe (configs/pretrain-tiny.yaml), --no-system asks the place questions
without the system prompt (its `system: none`) and --value scores the region as the answer's
value ("near the top-left corner"), not as the sentence a trace writes ("It is near ...").

POOL is a pretraining pool of trace questions (`<run>/data/<stage>.jsonl` of a trace stage). For each
colour question ("What colour is the small star?", the object named by its shape) and shape
question ("What shape is the small red object?", named by its colour) the model is asked where the
object is, three ways:

- "Where is the small red star?", named by colour and shape, as the place questions of the
  pretraining recipes ask it;
- "Where is the small star?" or "Where is the small red object?", named as the attribute question
  names it, by one attribute only;
- the attribute question with its reference trace up to "It is", where a trace names the region.

Each is scored by which of the nine region phrases ("near the top-left corner", ...) is most
likely after "It is", against the 3 x 3 cell of the object's centre. Then every token after the
picture is moved k positions further from it (M-RoPE position ids; the tokens themselves are
unchanged) and the same is scored again. A lookup that matches the name by content finds the
object at every k; one that rests on the rotary terms of one distance finds it only at k = 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from probe_model import ProbeModel, asked_as, attribute_questions, probe_args
from which import CELL_PHRASES, centre_cell

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))
from ivgr_engine.pretrain import rope_positions, shift_text_positions  # noqa: E402


def region_scores(pm: ProbeModel, prompt: torch.Tensor, picture: dict, shifts: list[int], lead: str = " ") -> dict[int, int]:
    """The most likely region phrase after `prompt` (ending in "It is", or where an answer's value
    starts with `lead` ""), per shift of the text after the picture."""
    phrases = [pm.tok(lead + p, add_special_tokens=False)["input_ids"] for p in CELL_PHRASES]
    n = prompt.shape[1]
    ids = torch.nn.utils.rnn.pad_sequence([torch.cat([prompt[0], torch.tensor(p)]) for p in phrases], batch_first=True)
    mask = torch.zeros_like(ids)
    for i, p in enumerate(phrases):
        mask[i, : n + len(p)] = 1
    inputs = pm.inputs(ids, {k: v.repeat(len(phrases), 1) for k, v in picture.items()}) | {"attention_mask": mask}
    position = rope_positions(pm.model, ids, mask, inputs["image_grid_thw"], inputs["mm_token_type_ids"])
    vision_end = pm.tok.convert_tokens_to_ids("<|vision_end|>")
    best = {}
    for k in shifts:
        moved = shift_text_positions(position, ids, vision_end, [k] * len(phrases))
        with torch.no_grad():
            logp = pm.model(**inputs, position_ids=moved).logits.float().log_softmax(-1)
        score = [float(sum(logp[i, n - 1 + j, t] for j, t in enumerate(p))) for i, p in enumerate(phrases)]
        best[k] = max(range(len(phrases)), key=score.__getitem__)
    return best


def main() -> None:
    def extra(p):
        p.add_argument("--shifts", default="0,2,5,10,20")
        p.add_argument("--no-system", action="store_true")
        p.add_argument("--value", action="store_true")

    a = probe_args(__doc__, 600, extra=extra)
    shifts = [int(k) for k in a.shifts.split(",")]
    pm = ProbeModel.load(a.model)
    start = "" if a.value else "It is"
    found: dict[tuple[str, str], list[int]] = {}
    for it, q, kind in attribute_questions(a.pool, a.scenes):
        obj = it["objects"][q["object"]]
        cell = centre_cell(obj["box"], it["width"], it["height"])
        picture = pm.picture(a.pool.parent / it["image"])
        asks = {
            "place question, colour and shape": pm.prompt(f"Where is the small {obj['colour']} {obj['shape']}?", start, not a.no_system),
            "place question, named as asked": pm.prompt(f"Where is {asked_as(q)}?", start, not a.no_system),
            "the trace, before its region": pm.before_region(q),
        }
        for how, prompt in asks.items():
            best = region_scores(pm, prompt, picture, shifts, "" if a.value and how.startswith("place") else " ")
            row = found.setdefault((kind, how), [0] * (len(shifts) + 1))
            row[0] += 1
            for i, k in enumerate(shifts):
                row[i + 1] += best[k] == cell
    print(f"model {a.model}: the asked object's cell named, with the text after the picture moved k positions")
    print(f"{'question (named by)':32s} {'asked':34s} {'n':>4s} " + " ".join(f"{'k=' + str(k):>6s}" for k in shifts))
    for (kind, how), (n, *hits) in sorted(found.items()):
        key = "colour (its shape)" if kind == "colour" else "shape (its colour)"
        print(f"{key:32s} {how:34s} {n:4d} " + " ".join(f"{h / n:6.0%}" for h in hits))


if __name__ == "__main__":
    main()

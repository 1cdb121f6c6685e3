"""Where the tiny model loses an object's shape on its way from the image to a trace's answer.

  python bench/learning/readout.py --model DIR --pool DIR/traces.jsonl [--scenes 1200]

POOL is a pretraining pool of trace questions (`<run>/data/<stage>.jsonl` of a trace stage, drawn
from a seed the model was not trained on). For the pool's textual shape questions the reference
trace is fed up to "It is a" and the script prints:

- a linear probe (70/30 split) of each object's shape from the mean of its visual tokens, and
  from the visual token at its centre: what the vision tower hands the language model;
- a linear probe of the asked object's shape from the hidden state, at each layer, of the
  position that writes the shape: what reaches the answer;
- the share of those positions whose most likely shape word is right, as the model runs, and
  with the attention of that position in layers 1-3 confined to the asked object's tokens.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from transformers import AttentionInterface, AutoImageProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration
from transformers.integrations.sdpa_attention import sdpa_attention_forward

# The worker's prompt texts (src/worker/prompts.ts), textual stream.
SYSTEM = "Reason inside <think></think>, then give the answer inside <answer></answer>."
TEXTUAL = "Say in words where you look; write no boxes."
SHAPES = ["star", "circle", "square", "triangle", "diamond", "cross"]
CONFINED_LAYERS = (1, 2, 3)


class Confine:
    """An attention function that adds `bias` ([query, key]) in the confined layers, when set."""

    bias: torch.Tensor | None = None

    @classmethod
    def forward(cls, module, query, key, value, attention_mask, **kw):
        if cls.bias is not None and getattr(module, "layer_idx", None) in CONFINED_LAYERS:
            causal = torch.triu(torch.full((query.shape[2], key.shape[2]), float("-inf")), 1)
            attention_mask = (causal + cls.bias)[None, None]
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kw)


def object_cells(box: list[float], width: int, height: int, grid: int) -> list[int]:
    """The visual tokens (row-major) an object covers by more than 5 % of a token."""
    x1, y1, x2, y2 = box[0] * grid / width, box[1] * grid / height, box[2] * grid / width, box[3] * grid / height
    return [
        r * grid + c
        for r in range(grid)
        for c in range(grid)
        if max(0.0, min(x2, c + 1) - max(x1, c)) * max(0.0, min(y2, r + 1) - max(y1, r)) > 0.05
    ]


def linear_probe(xs: list[torch.Tensor], ys: list[int], seed: int = 0) -> float:
    """Held-out accuracy of a softmax-regression probe trained on the first 70 %."""
    torch.manual_seed(seed)
    x, y = torch.stack(xs).float(), torch.tensor(ys)
    cut = int(len(y) * 0.7)
    mu, sd = x[:cut].mean(0), x[:cut].std(0) + 1e-5
    x = (x - mu) / sd
    head = torch.nn.Linear(x.shape[1], len(SHAPES))
    opt = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(500):
        opt.zero_grad()
        F.cross_entropy(head(x[:cut]), y[:cut]).backward()
        opt.step()
    return float((head(x[cut:]).argmax(1) == y[cut:]).float().mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--pool", required=True, type=Path)
    p.add_argument("--scenes", type=int, default=1200)
    a = p.parse_args()
    torch.set_num_threads(1)
    AttentionInterface.register("confine", Confine.forward)
    tok = AutoTokenizer.from_pretrained(a.model)
    ip = AutoImageProcessor.from_pretrained(a.model)
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(a.model).eval()
    model.model.language_model.config._attn_implementation = "confine"
    side = json.loads((Path(a.model) / "ivgr.json").read_text())["imageSize"]
    grid = side // (ip.patch_size * ip.merge_size)
    captured: dict[str, torch.Tensor] = {}
    model.model.visual.register_forward_hook(lambda _m, _i, out: captured.__setitem__("visual", out.pooler_output))
    pad = tok.convert_tokens_to_ids("<|image_pad|>")
    first = [tok(" " + s, add_special_tokens=False)["input_ids"][0] for s in SHAPES]

    items = [json.loads(line) for line in a.pool.read_text().splitlines() if line.strip()]
    random.Random(0).shuffle(items)
    pooled, centre, obj_y = [], [], []
    hidden: dict[int, list[torch.Tensor]] = {}
    asked_y, right, right_confined = [], 0, 0
    for it in items[: a.scenes]:
        q = next((q for q in it["questions"] if q["stream"] == "textual" and q["question"].startswith("What shape")), None)
        if q is None:
            continue
        prefix = q["answer"][: q["answer"].rfind(" It is a ") + len(" It is a")]
        text = (
            f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>"
            f"{q['question']}\n{TEXTUAL}<|im_end|>\n<|im_start|>assistant\n{prefix}"
        )
        ids = [t for t0 in tok(text, add_special_tokens=False)["input_ids"] for t in ([t0] * grid * grid if t0 == pad else [t0])]
        x = torch.tensor([ids])
        with Image.open(a.pool.parent / it["image"]) as im:
            vis = ip(images=[im.convert("RGB").resize((side, side), Image.BICUBIC)], return_tensors="pt")
        inputs = dict(
            input_ids=x, attention_mask=torch.ones_like(x), pixel_values=vis["pixel_values"],
            image_grid_thw=vis["image_grid_thw"], mm_token_type_ids=(x == pad).int(),
        )
        with torch.no_grad():
            Confine.bias = None
            out = model(**inputs, output_hidden_states=True)
            tokens = captured["visual"]
            for o in it["objects"]:
                cells = object_cells(o["box"], it["width"], it["height"], grid)
                if o["shape"] == "sign" or not cells:
                    continue
                x1, y1, x2, y2 = o["box"]
                cx = min(grid - 1, int((x1 + x2) / 2 * grid / it["width"]))
                cy = min(grid - 1, int((y1 + y2) / 2 * grid / it["height"]))
                pooled.append(tokens[cells].mean(0))
                centre.append(tokens[cy * grid + cx])
                obj_y.append(SHAPES.index(o["shape"]))
            o = it["objects"][q["object"]]
            y = SHAPES.index(o["shape"])
            asked_y.append(y)
            for layer, h in enumerate(out.hidden_states):
                hidden.setdefault(layer, []).append(h[0, -1])
            right += int(out.logits[0, -1, first].argmax()) == y
            visual = (x[0] == pad).nonzero().squeeze(-1)
            keep = visual[torch.tensor(object_cells(o["box"], it["width"], it["height"], grid))]
            bias = torch.zeros(len(ids), len(ids))
            bias[-1, visual] = float("-inf")
            bias[-1, keep] = 0.0
            Confine.bias = bias
            right_confined += int(model(**inputs).logits[0, -1, first].argmax()) == y
    n = len(asked_y)
    print(f"model {a.model}; {len(obj_y)} objects, {n} shape questions (chance {1 / len(SHAPES):.0%})")
    print(f"probe, mean of the object's visual tokens   {linear_probe(pooled, obj_y):.1%}")
    print(f"probe, the visual token at its centre       {linear_probe(centre, obj_y):.1%}")
    for layer, hs in hidden.items():
        print(f"probe, answer position, layer {layer} input      {linear_probe(hs, asked_y):.1%}")
    print(f"shape word right, as the model runs          {right / n:.1%}")
    print(f"  attention of layers 1-3 on the object only {right_confined / n:.1%}")


if __name__ == "__main__":
    main()

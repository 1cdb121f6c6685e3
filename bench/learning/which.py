"""Which object a model's textual trace says it looks at, when a question names one of several.

  python bench/learning/which.py --model DIR --pool DIR/traces.jsonl [--scenes 600]

POOL is a pretraining pool of trace questions (`<run>/data/<stage>.jsonl` of a trace stage; its
scenes list every object). For each colour question ("What colour is the small star?", the object
found by its shape) and shape question ("What shape is the small red object?", found by its
colour), the model writes its textual trace greedily, and the region it names ("It is near the
top-left corner.") is compared with the 3 x 3 cell of each object's centre, as the reference
traces name it (src/core/regions.ts): the asked object's, another object's, an empty cell next to
the asked object, or another empty cell; the asked cell's share is split by whether the question
lists options (their words name other objects' colours or shapes), and by whether the trace's first
sentence restates the object as the question names it ("I look for the small red object."). It also feeds the reference trace up to "It is" (where
the region comes next) and prints, per layer, the attention that position puts on the asked
object's visual tokens and on the other objects' tokens (mean over heads).
"""

from __future__ import annotations

import re
from collections import Counter

import torch
from probe_model import ProbeModel, asked_as, attribute_questions, probe_args
from where import regions

# src/core/regions.ts, cells row-major.
CELL_PHRASES = [
    "near the top-left corner", "along the top edge", "near the top-right corner",
    "in the left middle", "at the center", "in the right middle",
    "near the bottom-left corner", "along the bottom edge", "near the bottom-right corner",
]


def centre_cell(box: list[float], width: int, height: int) -> int:
    def third(v: float, extent: int) -> int:
        return min(2, max(0, int(v / extent * 3)))

    return third((box[1] + box[3]) / 2, height) * 3 + third((box[0] + box[2]) / 2, width)


def outcome(named: int, asked: int, others: list[int]) -> str:
    if named == asked:
        return "the asked object's cell"
    if named in others:
        return "another object's cell"
    (r1, c1), (r2, c2) = divmod(named, 3), divmod(asked, 3)
    return "an empty cell next to it" if abs(r1 - r2) <= 1 and abs(c1 - c2) <= 1 else "another empty cell"


def main() -> None:
    a = probe_args(__doc__, 600)
    pm = ProbeModel.load(a.model, attn_implementation="eager")
    counts: Counter[tuple[str, str]] = Counter()
    # (kind, split, found): the asked-cell share split by options and by how the trace restates the object.
    splits: Counter[tuple[str, str, bool]] = Counter()
    objects_per_scene: Counter[str] = Counter()
    mass: dict[int, list[float]] = {}
    for it, q, kind in attribute_questions(a.pool, a.scenes):
        picture = pm.picture(a.pool.parent / it["image"])
        ids = pm.textual_prompt(q["question"])
        forced = pm.before_region(q)
        visual = (forced[0] == pm.pad).nonzero().squeeze(-1)
        asked, rest = pm.asked_and_others(it, q)
        with torch.no_grad():
            out = pm.model.generate(**pm.inputs(ids, picture), max_new_tokens=50, do_sample=False)
            att = pm.model(**pm.inputs(forced, picture), output_attentions=True).attentions
        for layer, w in enumerate(att):
            w = w[0, :, -1].mean(0)
            m_asked = float(w[visual[asked]].sum())
            m_rest = float(w[visual[rest]].sum()) if rest else 0.0
            acc = mass.setdefault(layer, [0.0, 0.0, 0.0])
            acc[0], acc[1], acc[2] = acc[0] + m_asked, acc[1] + m_rest, acc[2] + 1
        trace = pm.tok.decode(out[0, ids.shape[1]:])
        named = regions(trace)
        objects_per_scene[kind] += len(it["objects"])
        if not named or named[0] not in CELL_PHRASES:
            counts[(kind, "no region")] += 1
            continue
        cells = [centre_cell(o["box"], it["width"], it["height"]) for o in it["objects"]]
        others = [c for k, c in enumerate(cells) if k != q["object"]]
        where = outcome(CELL_PHRASES.index(named[0]), cells[q["object"]], others)
        counts[(kind, where)] += 1
        found = where == "the asked object's cell"
        splits[(kind, "with options" if " A. " in q["question"] else "without options", found)] += 1
        restated = re.search(r"I look for (the [^.]*)\.", trace)
        as_asked = bool(restated and restated[1] == asked_as(q))
        splits[(kind, f"restating the object {'as asked' if as_asked else 'otherwise'}", found)] += 1
    print(f"model {a.model}")
    for kind, found_by in (("colour", "its shape"), ("shape", "its colour")):
        n = sum(v for (k, _), v in counts.items() if k == kind)
        if not n:
            continue
        print(f"{kind} questions (the object found by {found_by}): {n}, {objects_per_scene[kind] / n:.1f} objects per scene")
        for (k, where), v in sorted(counts.items(), key=lambda kv: -kv[1]):
            if k == kind:
                print(f"  names {where:26s} {v:4d} ({v / n:.0%})")
        for split in ("with options", "without options", "restating the object as asked", "restating the object otherwise"):
            hit, miss = splits[(kind, split, True)], splits[(kind, split, False)]
            if hit + miss:
                print(f"  {split}: the asked cell {hit} of {hit + miss} ({hit / (hit + miss):.0%})")
    print('attention of the position before the region ("It is"), mean over heads:')
    for layer, (m_asked, m_rest, k) in mass.items():
        print(f"  layer {layer}: on the asked object {m_asked / k:.2f}, on the other objects {m_rest / k:.2f}")


if __name__ == "__main__":
    main()

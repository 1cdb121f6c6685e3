"""Whether a checkpoint's traces say where the asked object is, and what that does to the answer.

  python bench/learning/where.py --eval RUN/events/eval.jsonl --data DATASET [--split val] [--checkpoint sft]

Per question kind, for the textual traces: how many name the same regions, in the same order, as
the reference trace ("It is near the top-left corner."), and the answer accuracy of each group;
for the grounded traces: how many put the centre of their first box inside the first evidence box,
and the answer accuracy of each group.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

REGION = re.compile(r"\bis ((?:at|in|near|along) the [\w\- ]+?)\s*[.,<]")


def regions(trace: str) -> list[str]:
    """The region phrases of a trace's reasoning, boxes removed."""
    think = trace.split("</think>")[0]
    return REGION.findall(re.sub(r"\s*<box>.*?</box>", "", think))


def kind_of(question: str) -> str:
    words = question.split()
    return "relation" if words[0] == "Where" else words[1]


def centre_inside(box: list[float], evidence: list[float]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return evidence[0] <= cx <= evidence[2] and evidence[1] <= cy <= evidence[3]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval", required=True, type=Path)
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--split", default="val")
    p.add_argument("--checkpoint", default="sft")
    a = p.parse_args()
    records = {r["id"]: r for r in map(json.loads, (a.data / f"{a.split}.jsonl").read_text().splitlines()) if r}
    counts: Counter[tuple[str, str, bool, bool]] = Counter()
    for line in a.eval.read_text().splitlines():
        e = json.loads(line)
        if e.get("checkpoint") != a.checkpoint or e["mode"] not in ("textual", "grounded"):
            continue
        r = records[e["promptId"]]
        if e["mode"] == "textual":
            located = regions(e["output"]) == regions(r["reference"]["textual"])
        else:
            located = bool(e["boxes"]) and bool(r["evidence"]) and centre_inside(e["boxes"][0], r["evidence"][0])
        counts[(e["mode"], kind_of(r["question"]), located, bool(e["correct"]))] += 1
    labels = {"textual": ("names the reference's regions", "names others"), "grounded": ("first box on the evidence", "off it")}
    for mode, (yes, no) in labels.items():
        print(f"{mode}:")
        for kind in sorted({k for m, k, _, _ in counts if m == mode}):
            cells = []
            for located, label in ((True, yes), (False, no)):
                n = counts[(mode, kind, located, True)] + counts[(mode, kind, located, False)]
                right = counts[(mode, kind, located, True)] / n if n else 0.0
                cells.append(f"{label} {n:3d} (right {right:4.0%})")
            print(f"  {kind:9s} " + "  ".join(cells))


if __name__ == "__main__":
    main()

"""Where a perception-pretrained model loses a named-object question: the lookup, the readout or
the options. Reads a pretraining run's rendered pools (its `data/` folder) and scores a model
folder on one held-out pool:

  python bench/learning/lookup.py --run runs/pretrain-tiny --model models/ivgr-tiny \
      [--pool demo] [--n 96] [--probe-train 600]

  accuracy         per task, with and without options A-D
  attention        per question kind (colour, shape, word): mass the position that writes the
                   first answer token puts on the asked object's visual tokens, per layer
                   (heads averaged), against the mass those tokens would get from attention
                   spread evenly over the image, and the share of questions whose
                   most-attended visual token lies on the asked object (top-1)
  probes           linear probes (fitted on the training pool, scored on the held-out pool) for
                   the asked object's colour and shape, and a sign's word: from the object's own
                   visual tokens (what the vision side offers) and from the language model's last
                   hidden state at the answer position (what arrives where the answer is written)

Only colour, shape and word questions enter the attention and probe rows: they name one
object and ask one of its attributes.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from ivgr_engine.pretrain import COLOURS, SHAPES, WORDS, Pool, Trainer  # noqa: E402


def load(run: Path, model: Path) -> Trainer:
    from transformers import Qwen2_5_VLForConditionalGeneration

    t = Trainer(run, threads=int(torch.get_num_threads()))
    t.model = Qwen2_5_VLForConditionalGeneration.from_pretrained(str(model), attn_implementation="eager")
    t.model.eval()
    t.model.model.visual.register_forward_hook(lambda _m, _i, out: t.captured.__setitem__("visual", out.pooler_output))
    return t


def examples(pool: Pool, n: int, tasks: set[str] | None = None):
    out = []
    for i in range(min(n, len(pool.items))):
        for q in range(len(pool.items[i]["questions"])):
            ex = pool.example(i, q)
            if tasks is None or ex.question["task"] in tasks:
                out.append(ex)
    return out


@torch.no_grad()
def features(t: Trainer, exs: list) -> dict:
    """Per example: correctness, attention on the asked object per layer, top-1 hit, and the
    features the probes read."""
    rows = []
    for k in range(0, len(exs), 16):
        chunk = exs[k:k + 16]
        b = t.batch(chunk)
        out = t.forward(b, attentions=True)
        logits = out.logits[:, :-1].float()
        labels = b["labels"][:, 1:]
        img = b["ids"] == t.image_pad
        visual = t.captured["visual"].float()
        g2 = t.grid * t.grid
        last = out.hidden_states[-1].float()
        for i, ex in enumerate(chunk):
            m = labels[i] != -100
            correct = bool((logits[i][m].argmax(-1) == labels[i][m]).all())
            target = b["targets"][i]
            q = b["starts"][i] - 1
            positions = img[i].nonzero().squeeze(-1)
            mass, top = [], []
            for att in out.attentions:
                a = att[i][:, q, positions].float().mean(0)
                mass.append(float(a[target].sum()) if target else float("nan"))
                top.append(1.0 if target and int(a.argmax()) in target else 0.0)
            o = ex.objects[ex.question["object"]]
            own = visual[i * g2 + torch.tensor(target)].mean(0) if target else None
            rows.append({
                "task": ex.question["task"],
                "options": "A." in ex.question["question"],
                "correct": correct,
                "mass": mass,
                "even": len(target) / g2 if target else float("nan"),
                "top": top,
                "colour": COLOURS.index(o["colour"]),
                "shape": SHAPES.index(o["shape"]) if o["shape"] in SHAPES else -1,
                "word": WORDS.index(o["word"]) if o.get("word") else -1,
                "own": own,
                "answer_state": last[i, q],
            })
    return rows


def probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor, classes: int) -> float:
    mu, sd = train_x.mean(0), train_x.std(0) + 1e-5
    head = torch.nn.Linear(train_x.shape[1], classes)
    opt = torch.optim.AdamW(head.parameters(), lr=1e-2, weight_decay=1e-3)
    xs = (train_x - mu) / sd
    for _ in range(400):
        opt.zero_grad()
        F.cross_entropy(head(xs), train_y).backward()
        opt.step()
    with torch.no_grad():
        return float((head((test_x - mu) / sd).argmax(-1) == test_y).float().mean())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--pool", default="demo")
    p.add_argument("--n", type=int, default=96)
    p.add_argument("--probe-train", type=int, default=600)
    a = p.parse_args()
    torch.manual_seed(0)
    random.seed(0)
    t = load(a.run.resolve(), a.model.resolve())
    data = a.run.resolve() / "data"
    held = features(t, examples(Pool(data, f"{a.pool}-val"), a.n))
    print(f"model {a.model} on {a.pool}-val ({a.n} scenes, {len(held)} questions)")
    print("accuracy          all     free-form  options")
    for task in sorted({r["task"] for r in held}):
        rs = [r for r in held if r["task"] == task]
        cell = lambda xs: f"{sum(r['correct'] for r in xs) / len(xs):6.1%} ({len(xs):3d})" if xs else "     -      "
        print(f"  {task:10s} {cell(rs)} {cell([r for r in rs if not r['options']])} {cell([r for r in rs if r['options']])}")
    named = [r for r in held if r["task"] in ("colour", "shape", "word") and r["own"] is not None]
    layers = len(named[0]["mass"])
    print("attention on the asked object, per question (mass, and top-1 on the object, per layer)")
    for task in ("colour", "shape", "word"):
        rs = [r for r in named if r["task"] == task]
        if not rs:
            continue
        even = sum(r["even"] for r in rs) / len(rs)
        cells = "  ".join(
            f"L{layer} {sum(r['mass'][layer] for r in rs) / len(rs):.2f} {sum(r['top'][layer] for r in rs) / len(rs):4.0%}"
            for layer in range(layers)
        )
        print(f"  {task:6s} n={len(rs):3d} evenly {even:.2f}  {cells}")
    fit = [r for r in features(t, examples(Pool(data, a.pool), a.probe_train, {"colour", "shape", "word"})) if r["own"] is not None]
    print(f"linear probes (fitted on {len(fit)} training questions, scored on {len(named)} held-out)")
    for attr, classes in (("colour", len(COLOURS)), ("shape", len(SHAPES)), ("word", len(WORDS))):
        tr = [r for r in fit if r[attr] >= 0]
        te = [r for r in named if r[attr] >= 0]
        if not tr or not te:
            continue
        y_tr = torch.tensor([r[attr] for r in tr])
        y_te = torch.tensor([r[attr] for r in te])
        own = probe(torch.stack([r["own"] for r in tr]), y_tr, torch.stack([r["own"] for r in te]), y_te, classes)
        state = probe(torch.stack([r["answer_state"] for r in tr]), y_tr, torch.stack([r["answer_state"] for r in te]), y_te, classes)
        print(f"  {attr:6s}: from the object's visual tokens {own:.0%}, from the answer position {state:.0%} (chance {1 / classes:.0%}, n={len(te)})")


if __name__ == "__main__":
    main()

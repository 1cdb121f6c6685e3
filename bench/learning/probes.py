"""Learning probes behind docs/RESULTS.md: where a warm-started model's loss sits, and how fast
the tiny model learns to read its context.

  python bench/learning/probes.py trace-loss --model DIR --checkpoint DIR --data DIR [--split train] [--n 32]
      per-token loss (nats) of the textual reference traces under a checkpoint: template tokens
      near 0 and question/image tokens near log(#choices) mean the model ignores its inputs.
  python bench/learning/probes.py copy --model DIR [--steps 400] [--lr 2e-3]
      text only: learn to repeat four random words from the prompt; held-out loss every 100 steps.
  python bench/learning/probes.py caption --model DIR --data DIR [--steps 400] [--lr 2e-3]
      image -> "A small <colour> <shape> <place>." on the synthetic attribute family.
  python bench/learning/probes.py solid --model DIR [--steps 300] [--lr 2e-3] [--side 1.0]
      the easiest image question: "What colour is the image?" on a grey canvas holding one
      square of a colour, `side` of the canvas wide (1.0: the whole image), at a random place.

MODEL is a tiny model folder (the worker builds it under <dataset>/../models/); the engine runs
in-process with its own seed, so runs repeat.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

from ivgr_engine.server import Engine  # noqa: E402

# The worker's prompt texts (src/worker/prompts.ts), textual stream.
SYSTEM = "Reason inside <think></think>, then give the answer inside <answer></answer>."
TEXTUAL = "Say in words where you look; write no boxes."
WORDS = "red green blue yellow orange purple star circle square triangle cross diamond".split()


def question_text(r: dict) -> str:
    options = r.get("options")
    return r["question"] + (" " + " ".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(options)) if options else "")


def load(model: str, checkpoint: str | None = None) -> Engine:
    e = Engine()
    e.op_load({"model": model, "seed": 1})
    if checkpoint:
        e.op_restore({"dir": checkpoint})
    return e


def mean_loss(e: Engine, items: list[dict]) -> tuple[float, list[dict]]:
    out = e.op_logprobs({"items": items})["items"]
    return sum(-o["total"] for o in out) / sum(len(o["tokens"]) for o in out), out


def trace_loss(a) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(a.model) / "tokenizer.json"))
    recs = [json.loads(line) for line in open(Path(a.data) / f"{a.split}.jsonl")][: a.n]
    items = [{"images": [str(Path(a.data) / r["image"])],
              "messages": [{"role": "system", "text": SYSTEM}, {"role": "user", "text": question_text(r) + "\n" + TEXTUAL}],
              "target": r["reference"]["textual"]} for r in recs]
    loss, out = mean_loss(load(a.model, a.checkpoint), items)
    for r, o in list(zip(recs, out))[:3]:
        ids = tok.encode(r["reference"]["textual"], add_special_tokens=False).ids
        print(" ".join(f"{tok.id_to_token(i)}:{-lp:.2f}" for i, lp in zip(ids, o["tokens"])))
    print(f"mean {loss:.3f} nats/token over {len(recs)} traces")


def train_probe(e: Engine, make, held: list[dict], steps: int, lr: float, every: int = 100) -> None:
    t0 = time.perf_counter()
    for s in range(steps + 1):
        if s % every == 0 or s == steps:
            print(f"step {s}: held-out {mean_loss(e, held)[0]:.3f} nats/token ({time.perf_counter() - t0:.0f} s)", flush=True)
        if s < steps:
            e.op_sft_step({"examples": [make() for _ in range(16)], "learningRate": lr, "microBatch": 16})


def copy(a) -> None:
    rng = random.Random(0)

    def make() -> dict:
        ws = " ".join(rng.choice(WORDS) for _ in range(4))
        return {"images": [], "messages": [{"role": "user", "text": f"Repeat: {ws}"}], "target": ws}

    held = [make() for _ in range(32)]
    print(f"chance: ln {len(WORDS)} = 2.48 nats per word")
    train_probe(load(a.model), make, held, a.steps, a.lr)


def caption_of(r: dict) -> str:
    answer = r["meta"]["answerText"]
    place = re.search(r"It is ([^.<]*?)\.", r["reference"]["textual"]).group(1)
    m = re.match(r"What colour is the small (\w+)\?", r["question"])
    colour, shape = (answer, m.group(1)) if m else (re.match(r"What shape is the small (\w+) object\?", r["question"]).group(1), answer)
    return f"A small {colour} {shape} {place}."


def caption(a) -> None:
    data = Path(a.data)
    recs = lambda split: [r for r in (json.loads(line) for line in open(data / f"{split}.jsonl")) if r.get("family") == "attribute"]
    item = lambda r: {"images": [str(data / r["image"])], "messages": [{"role": "user", "text": "Describe the image."}], "target": caption_of(r)}
    train, held = recs("train"), [item(r) for r in recs("val")[:32]]
    if not train:
        raise SystemExit(f"{data}: no attribute-family training questions")
    rng = random.Random(0)
    train_probe(load(a.model), lambda: item(rng.choice(train)), held, a.steps, a.lr)


def solid(a) -> None:
    import tempfile

    from PIL import Image

    colours = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (230, 210, 40), "orange": (240, 140, 30), "purple": (140, 60, 180)}
    folder = Path(tempfile.mkdtemp(prefix="ivgr-solid-"))
    rng = random.Random(0)

    def image(i: int, colour: str) -> str:
        size, side = 224, max(1, round(224 * a.side))
        img = Image.new("RGB", (size, size), (128, 128, 128))
        x, y = rng.randint(0, size - side), rng.randint(0, size - side)
        img.paste(colours[colour], (x, y, x + side, y + side))
        path = folder / f"{i}.png"
        img.save(path)
        return str(path)

    pool = []
    for i in range(512):
        c = rng.choice(list(colours))
        pool.append({"images": [image(i, c)], "messages": [{"role": "user", "text": "What colour is the image?"}], "target": c})
    held, train = pool[:32], pool[32:]
    print(f"chance: ln {len(colours)} = 1.79 nats per colour word")
    train_probe(load(a.model), lambda: rng.choice(train), held, a.steps, a.lr, every=50)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="probe", required=True)
    t = sub.add_parser("trace-loss")
    t.add_argument("--model", required=True)
    t.add_argument("--checkpoint", required=True)
    t.add_argument("--data", required=True)
    t.add_argument("--split", default="train")
    t.add_argument("--n", type=int, default=32)
    for name in ("copy", "caption"):
        q = sub.add_parser(name)
        q.add_argument("--model", required=True)
        q.add_argument("--steps", type=int, default=400)
        q.add_argument("--lr", type=float, default=2e-3)
        if name == "caption":
            q.add_argument("--data", required=True)
    q = sub.add_parser("solid")
    q.add_argument("--model", required=True)
    q.add_argument("--steps", type=int, default=300)
    q.add_argument("--lr", type=float, default=2e-3)
    q.add_argument("--side", type=float, default=1.0)
    a = p.parse_args()
    {"trace-loss": trace_loss, "copy": copy, "caption": caption, "solid": solid}[a.probe](a)


if __name__ == "__main__":
    main()

"""The engine's operations called in-process (no JSON-RPC), for the client-overhead benchmark
and the per-operation timings of the tiny model.

python bench/engine/inprocess.py --model DIR --images a.png b.png ... [--ops]
After loading, prints `ready`; then for each line `step K` on stdin runs one generate + update
step with seed 100 + K and prints its timings as one JSON line, so a driver can alternate these
steps with the same steps through the client (machine noise then hits both alike). `ops` prints
the time of every other operation once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))


def step_requests(images: list[str], rep: int, cfg: dict) -> tuple[dict, dict]:
    prompts = [
        {"id": f"q{i}", "images": [images[i % len(images)]],
         "messages": [{"role": "user", "text": f"Question {i}: what color is the small shape near the corner? (A) red (B) blue (C) green (D) yellow"}]}
        for i in range(cfg["prompts"])
    ]
    gen = {"prompts": prompts, "n": cfg["n"], "temperature": 1.0, "topP": 1.0, "maxTokens": cfg["maxTokens"], "seed": 100 + rep, "keep": True}
    upd = {"clipEpsilon": 0.2, "klBeta": cfg["klBeta"], "aggregation": "token", "microBatch": cfg["microBatch"], "maxGradNorm": 1.0}
    return gen, upd


def advantages(n: int) -> list[float]:
    return [1.0 if i % 3 == 0 else -0.5 for i in range(n)]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--images", nargs="+", required=True)
    p.add_argument("--config", default="{}", help="JSON: prompts, n, maxTokens, microBatch, klBeta, dtype")
    args = p.parse_args()
    cfg = {"prompts": 4, "n": 8, "maxTokens": 64, "microBatch": 8, "klBeta": 0.0, "dtype": "float32", **json.loads(args.config)}

    out = sys.stdout
    sys.stdout = sys.stderr
    import torch

    from ivgr_engine.server import Engine, _tune_threads

    e = Engine()
    t0 = time.perf_counter()
    e.call("load", {"model": args.model, "learningRate": 1e-4, "seed": 0, "reference": cfg["klBeta"] > 0, "dtype": cfg["dtype"]})
    _tune_threads(e.policy)
    ready = {"ready": True, "load": time.perf_counter() - t0, "threads": torch.get_num_threads()}
    out.write(json.dumps(ready) + "\n")
    out.flush()

    def step(rep: int) -> dict:
        gen, upd = step_requests(args.images, rep, cfg)
        t = time.perf_counter()
        g = e.call("generate", gen)
        tg = time.perf_counter() - t
        items = [{"rolloutId": s["rolloutId"], "advantage": a} for s, a in zip(g["samples"], advantages(len(g["samples"])))]
        t = time.perf_counter()
        e.call("update", {**upd, "items": items})
        tu = time.perf_counter() - t
        digest = hashlib.sha256("\x00".join(s["text"] for s in g["samples"]).encode()).hexdigest()[:16]
        return {"generate": tg, "update": tu, "tokens": sum(s["completionTokens"] for s in g["samples"]), "texts": digest}

    for line in sys.stdin:
        cmd = line.split()
        if cmd[:1] == ["step"]:
            reply = step(int(cmd[1]))
        elif cmd[:1] == ["ops"]:
            reply = operations(e, args.images, cfg)
        else:
            break
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


def operations(e, images: list[str], cfg: dict) -> dict:
    ops = {}

    def timed(name, method, params):
        t = time.perf_counter()
        r = e.call(method, params)
        ops[name] = time.perf_counter() - t
        return r

    gen, upd = step_requests(images, 0, cfg)
    timed("generate (keep=false)", "generate", {**gen, "keep": False})
    g = timed("generate (keep=true)", "generate", gen)
    rid = g["samples"][0]["rolloutId"]
    timed("continue (zoom, 32 tokens)", "continue", {"rolloutId": rid, "image": images[0], "text": "Zoomed in.",
                                                    "maxTokens": 32, "temperature": 1.0, "seed": 1, "keep": True})
    items = [{"rolloutId": s["rolloutId"], "advantage": a} for s, a in zip(g["samples"], advantages(len(g["samples"])))]
    timed("update", "update", {**upd, "items": items})
    ex = [{"images": [images[i % len(images)]], "messages": gen["prompts"][i % len(gen["prompts"])]["messages"],
           "target": "<think>The shape <box>[120,80,180,140]</box> near the corner is red.</think><answer>A</answer>"} for i in range(8)]
    timed("sft_step (8 examples)", "sft_step", {"examples": ex, "microBatch": 8})
    timed("logprobs (8 items)", "logprobs", {"items": ex})
    with tempfile.TemporaryDirectory() as d:
        timed("save", "save", {"dir": os.path.join(d, "ck"), "step": 1})
        timed("restore", "restore", {"dir": os.path.join(d, "ck")})
    return ops


if __name__ == "__main__":
    sys.exit(main())

"""Shared fixtures: the tiny model is built once per session from a small corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLORS = ["red", "green", "blue", "yellow"]


def corpus_lines() -> list[str]:
    lines = []
    for i in range(80):
        c, d = COLORS[i % 4], COLORS[(i + 1) % 4]
        lines.append(f"What color is the square? (A) {c} (B) {d}")
        lines.append(f"<think>The square <box>[{i * 9},{i * 4},{i * 9 + 80},{i * 4 + 80}]</box> is {c}.</think><answer>A</answer>")
        lines.append(f"<think>The square in the picture is {c}.</think><answer>A</answer>")
    return lines


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tiny")
    corpus = base / "corpus.txt"
    corpus.write_text("\n".join(corpus_lines()) + "\n")
    out = base / "model"
    from ivgr_engine.tiny import main

    assert main(["--corpus", str(corpus), "--out", str(out), "--seed", "3"]) == 0
    return out


@pytest.fixture(scope="session")
def images(tmp_path_factory) -> dict[str, str]:
    from PIL import Image

    d = tmp_path_factory.mktemp("images")
    out = {}
    for name, color, size in (("red", (220, 20, 20), (120, 80)), ("blue", (20, 20, 220), (64, 64))):
        p = d / f"{name}.png"
        Image.new("RGB", size, color).save(p)
        out[name] = str(p)
    bad = d / "broken.png"
    bad.write_bytes(b"not an image at all")
    out["broken"] = str(bad)
    return out


@pytest.fixture()
def engine(tiny_model):
    import torch

    from ivgr_engine.server import Engine

    torch.set_num_threads(int(os.environ.get("IVGR_THREADS", "1")))
    e = Engine()
    e.call("load", {"model": str(tiny_model), "learningRate": 2e-3, "seed": 0, "reference": True})
    return e


def prompts(images: dict[str, str], k: int = 2) -> list[dict]:
    return [
        {"id": f"p{i}", "images": [images["red" if i % 2 == 0 else "blue"]],
         "messages": [{"role": "user", "text": "What color is the square? (A) red (B) blue"}]}
        for i in range(k)
    ]


class RpcProcess:
    """The engine as a subprocess, spoken to in raw Content-Length frames."""

    def __init__(self, args: list[str] | None = None, env: dict | None = None):
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), "IVGR_THREADS": "1", **(env or {})}
        self.proc = subprocess.Popen(
            args or [sys.executable, "-m", "ivgr_engine"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env,
        )
        self.next_id = 0

    def send_raw(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, obj: dict) -> None:
        body = json.dumps(obj).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def read(self) -> dict:
        header = b""
        while not header.endswith(b"\r\n\r\n"):
            ch = self.proc.stdout.read(1)
            assert ch, f"engine closed stdout; stderr:\n{self.proc.stderr.read().decode()[-3000:]}"
            header += ch
        n = int(header.split(b":")[1].split(b"\r\n")[0])
        return json.loads(self.proc.stdout.read(n))

    def call(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        reply = self.read()
        assert reply["id"] == self.next_id
        return reply

    def close(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.stdin.close()
        return self.proc.wait(timeout=timeout)

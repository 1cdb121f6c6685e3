"""What the model probes (readout.py, which.py, query.py) share: a tiny model folder loaded for
probing, its textual prompt as the worker writes it, a pool's scenes and attribute questions, an
object's visual tokens, and a linear probe."""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from transformers import AutoImageProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

# The worker's prompt texts (src/worker/prompts.ts), textual stream.
SYSTEM = "Reason inside <think></think>, then give the answer inside <answer></answer>."
TEXTUAL = "Say in words where you look; write no boxes."


@dataclass
class ProbeModel:
    tok: AutoTokenizer
    ip: AutoImageProcessor
    model: Qwen2_5_VLForConditionalGeneration
    side: int
    grid: int
    pad: int

    @classmethod
    def load(cls, folder: str, **kwargs) -> "ProbeModel":
        torch.set_num_threads(1)
        tok = AutoTokenizer.from_pretrained(folder)
        ip = AutoImageProcessor.from_pretrained(folder)
        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(folder, **kwargs).eval()
        side = json.loads((Path(folder) / "ivgr.json").read_text())["imageSize"]
        return cls(tok, ip, model, side, side // (ip.patch_size * ip.merge_size), tok.convert_tokens_to_ids("<|image_pad|>"))

    def textual_prompt(self, question: str, answer_start: str = "") -> torch.Tensor:
        """Token ids of a textual-stream prompt, the image's tokens expanded, then `answer_start`."""
        return self.prompt(f"{question}\n{TEXTUAL}", answer_start)

    def prompt(self, user: str, answer_start: str = "", system: bool = True) -> torch.Tensor:
        """Token ids of the system prompt (unless a recipe asked without one, `system: none`), the
        picture and `user` (a pretraining question is asked so, without the stream's
        instruction), then `answer_start`."""
        head = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n" if system else ""
        text = (
            f"{head}<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>"
            f"{user}<|im_end|>\n<|im_start|>assistant\n{answer_start}"
        )
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        return torch.tensor([[t for t0 in ids for t in ([t0] * self.grid * self.grid if t0 == self.pad else [t0])]])

    def inputs(self, ids: torch.Tensor, picture: dict) -> dict:
        """Keyword arguments of the model's forward (and generate) for `ids` and a processed picture."""
        return dict(
            input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=picture["pixel_values"],
            image_grid_thw=picture["image_grid_thw"], mm_token_type_ids=(ids == self.pad).int(),
        )

    def before_region(self, q: dict) -> torch.Tensor:
        """The textual prompt of trace question `q` with its reference trace up to "It is", where the
        region comes next."""
        ref = q["answer"]
        return self.textual_prompt(q["question"], ref[: ref.find(". It is ") + len(". It is")])

    def asked_and_others(self, it: dict, q: dict) -> tuple[list[int], list[int]]:
        """The visual tokens of the object `q` asks about, and those of the scene's other objects
        that it does not share."""
        tokens = [set(self.object_tokens(o["box"], it["width"], it["height"])) for o in it["objects"]]
        asked = tokens[q["object"]]
        others = set().union(*(t for k, t in enumerate(tokens) if k != q["object"])) - asked
        return sorted(asked), sorted(others)

    def picture(self, path: Path) -> dict:
        with Image.open(path) as im:
            return self.ip(images=[im.convert("RGB").resize((self.side, self.side), Image.BICUBIC)], return_tensors="pt")

    def object_tokens(self, box: list[float], width: int, height: int) -> list[int]:
        """The visual tokens (row-major) an object covers by more than 5 % of a token."""
        g = self.grid
        x1, y1, x2, y2 = box[0] * g / width, box[1] * g / height, box[2] * g / width, box[3] * g / height
        return [
            r * g + c
            for r in range(g)
            for c in range(g)
            if max(0.0, min(x2, c + 1) - max(x1, c)) * max(0.0, min(y2, r + 1) - max(y1, r)) > 0.05
        ]


def pool_scenes(pool: Path) -> list[dict]:
    """A pretraining pool's scenes in a fixed shuffled order."""
    items = [json.loads(line) for line in pool.read_text().splitlines() if line.strip()]
    random.Random(0).shuffle(items)
    return items


def attribute_questions(pool: Path, scenes: int) -> Iterator[tuple[dict, dict, str]]:
    """Of the pool's first `scenes` scenes, those with a textual colour or shape question: the scene,
    the question, and which of the two it asks ("colour": the object named by its shape)."""
    for it in pool_scenes(pool)[:scenes]:
        kinds = ("colour", "shape")
        q = next((q for q in it["questions"] if q["stream"] == "textual" and q["question"].split()[1] in kinds), None)
        if q is not None:
            yield it, q, q["question"].split()[1]


def asked_as(q: dict) -> str:
    """How attribute question `q` names its object ("the small star" of "What colour is the small star?")."""
    return re.search(r" is (the [^?]*)\?", q["question"])[1]


def linear_probe(xs: list[torch.Tensor], ys: list[int], classes: int, seed: int = 0) -> float:
    """Held-out accuracy of a softmax-regression probe trained on the first 70 %."""
    torch.manual_seed(seed)
    x, y = torch.stack(xs).float(), torch.tensor(ys)
    cut = int(len(y) * 0.7)
    mu, sd = x[:cut].mean(0), x[:cut].std(0) + 1e-5
    x = (x - mu) / sd
    head = torch.nn.Linear(x.shape[1], classes)
    opt = torch.optim.Adam(head.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(500):
        opt.zero_grad()
        F.cross_entropy(head(x[:cut]), y[:cut]).backward()
        opt.step()
    return float((head(x[cut:]).argmax(1) == y[cut:]).float().mean())


def probe_args(doc: str, scenes: int, extra: Callable[[argparse.ArgumentParser], object] | None = None) -> argparse.Namespace:
    """--model DIR --pool POOL.jsonl [--scenes N] and the script's `extra` options, with its docstring as its help."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--pool", required=True, type=Path)
    p.add_argument("--scenes", type=int, default=scenes)
    if extra:
        extra(p)
    return p.parse_args()

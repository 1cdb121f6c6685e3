"""What the model probes (readout.py, which.py) share: a tiny model folder loaded for probing,
its textual prompt as the worker writes it, a pool's scenes, and an object's visual tokens."""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

import torch
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
        text = (
            f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>"
            f"{question}\n{TEXTUAL}<|im_end|>\n<|im_start|>assistant\n{answer_start}"
        )
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        return torch.tensor([[t for t0 in ids for t in ([t0] * self.grid * self.grid if t0 == self.pad else [t0])]])

    def inputs(self, ids: torch.Tensor, picture: dict) -> dict:
        """Keyword arguments of the model's forward (and generate) for `ids` and a processed picture."""
        return dict(
            input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=picture["pixel_values"],
            image_grid_thw=picture["image_grid_thw"], mm_token_type_ids=(ids == self.pad).int(),
        )

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


def probe_args(doc: str, scenes: int) -> argparse.Namespace:
    """--model DIR --pool POOL.jsonl [--scenes N], with the script's docstring as its help."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--pool", required=True, type=Path)
    p.add_argument("--scenes", type=int, default=scenes)
    return p.parse_args()

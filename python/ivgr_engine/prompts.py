"""Chat prompts in the Qwen-VL format, images expanded to their visual tokens.

Images go where a message's text says `<image>`, in order; when no message has
that placeholder, all images go at the start of the first user message.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import BAD_IMAGE, EngineError, invalid
from .params import field, objects, strings

IMAGE_PLACEHOLDER = "<image>"
VISION = "<|vision_start|><|image_pad|><|vision_end|>"
RESERVED = ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>")
DEFAULT_SYSTEM = "You are a helpful assistant."


@dataclass
class Encoded:
    ids: list[int]
    pixel_values: torch.Tensor | None
    grid_thw: torch.Tensor | None


def parse_messages(obj: dict, where: str) -> tuple[list[str], list[dict]]:
    images = strings(obj, "images", where, default=[])
    messages = objects(obj, "messages", where, min_items=1)
    for i, m in enumerate(messages):
        role = field(m, "role", str, f"{where}.messages[{i}]")
        if role not in ("system", "user", "assistant"):
            raise invalid(f"{where}.messages[{i}].role: expected system, user or assistant, got {role!r}")
        text = field(m, "text", str, f"{where}.messages[{i}]")
        for token in RESERVED:
            if token in text:
                raise invalid(f"{where}.messages[{i}].text contains the reserved token {token}; images go in 'images'")
    return images, messages


def chat_text(messages: list[dict], n_images: int, where: str) -> str:
    placed = sum(m["text"].count(IMAGE_PLACEHOLDER) for m in messages)
    if placed and placed != n_images:
        raise invalid(f"{where}: the messages have {placed} '{IMAGE_PLACEHOLDER}' placeholder(s) but {n_images} image(s) were given")
    parts: list[str] = []
    if messages[0]["role"] != "system":
        parts.append(f"<|im_start|>system\n{DEFAULT_SYSTEM}<|im_end|>\n")
    first_user = True
    for m in messages:
        text = m["text"].replace(IMAGE_PLACEHOLDER, VISION)
        if not placed and m["role"] == "user" and first_user:
            text = VISION * n_images + text
            first_user = False
        parts.append(f"<|im_start|>{m['role']}\n{text}<|im_end|>\n")
    if not placed and first_user and n_images:
        raise invalid(f"{where}: images were given but no user message to attach them to")
    parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def tool_turn_text(text: str, ended: bool) -> str:
    """The user turn that carries a tool result image, after the assistant's tool call."""
    return ("" if ended else "<|im_end|>") + f"\n<|im_start|>user\n{VISION}{text}<|im_end|>\n<|im_start|>assistant\n"


class PromptEncoder:
    def __init__(self, tokenizer, image_processor, image_side: int):
        self.tok = tokenizer
        self.ip = image_processor
        self.side = image_side
        self.image_pad = tokenizer.convert_tokens_to_ids("<|image_pad|>")
        self.merge = int(getattr(image_processor, "merge_size", 2))

    def load_images(self, paths: list[str], where: str) -> list:
        from PIL import Image, UnidentifiedImageError

        out = []
        for i, path in enumerate(paths):
            try:
                with Image.open(path) as im:
                    im = im.convert("RGB")
                    if self.side:
                        im = im.resize((self.side, self.side), Image.BICUBIC)
                    out.append(im)
            except FileNotFoundError:
                raise EngineError(BAD_IMAGE, f"{where}.images[{i}]: image file not found: {path}") from None
            except (UnidentifiedImageError, OSError, ValueError) as e:
                raise EngineError(BAD_IMAGE, f"{where}.images[{i}]: cannot read image {path}: {e}") from None
        return out

    def encode(self, text: str, image_paths: list[str], where: str) -> Encoded:
        images = self.load_images(image_paths, where)
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        if not images:
            return Encoded(ids, None, None)
        vis = self.ip(images=images, return_tensors="pt")
        grid = vis["image_grid_thw"]
        counts = [int(g.prod()) // (self.merge**2) for g in grid]
        expanded: list[int] = []
        k = 0
        for t in ids:
            if t == self.image_pad:
                if k >= len(counts):
                    raise invalid(f"{where}: more image slots than images")
                expanded.extend([t] * counts[k])
                k += 1
            else:
                expanded.append(t)
        if k != len(counts):
            raise invalid(f"{where}: {len(counts)} image(s) but {k} image slot(s) in the prompt")
        return Encoded(expanded, vis["pixel_values"], grid)

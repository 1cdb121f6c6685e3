"""The position jitter of pretraining (`positionJitter`): the text after the picture moves further
from it, and nothing else changes."""

from __future__ import annotations

import inspect
from pathlib import Path

import torch

from ivgr_engine.pretrain import rope_positions, shift_text_positions

MODEL = Path(__file__).resolve().parents[2] / "models" / "ivgr-tiny"


def test_only_the_tokens_after_a_picture_move():
    position = torch.arange(6).repeat(3, 2, 1)
    ids = torch.tensor([[1, 2, 9, 4, 5, 6], [1, 2, 3, 4, 5, 6]])
    moved = shift_text_positions(position, ids, vision_end=9, shifts=[4, 4])
    assert moved[:, 0].tolist() == [[0, 1, 2, 7, 8, 9]] * 3
    assert moved[:, 1].tolist() == [[0, 1, 2, 3, 4, 5]] * 3, "a row without a picture keeps its positions"
    assert position[0, 0].tolist() == [0, 1, 2, 3, 4, 5], "the model's own positions are not changed in place"


def test_the_shipped_model_reads_the_same_at_shift_0_and_differently_after_the_picture_when_shifted():
    from PIL import Image
    from transformers import AutoImageProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

    tok = AutoTokenizer.from_pretrained(MODEL)
    ip = AutoImageProcessor.from_pretrained(MODEL)
    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(MODEL).eval()
    pad, end = tok.convert_tokens_to_ids("<|image_pad|>"), tok.convert_tokens_to_ids("<|vision_end|>")
    picture = ip(images=[Image.new("RGB", (224, 224), (200, 30, 30))], return_tensors="pt")
    grid = int(picture["image_grid_thw"][0].prod()) // ip.merge_size**2
    text = "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Where is the small red star?<|im_end|>\n<|im_start|>assistant\nIt is"
    ids = [t for t0 in tok(text, add_special_tokens=False)["input_ids"] for t in ([t0] * grid if t0 == pad else [t0])]
    ids = torch.tensor([ids])
    mask = torch.ones_like(ids)
    types = (ids == pad).int()
    inputs = dict(input_ids=ids, attention_mask=mask, pixel_values=picture["pixel_values"], image_grid_thw=picture["image_grid_thw"])
    extra = {"mm_token_type_ids": types} if "mm_token_type_ids" in inspect.signature(model.model.forward).parameters else {}
    position = rope_positions(model, ids, mask, picture["image_grid_thw"], types)
    after = int((ids[0] == end).nonzero()[0, 0]) + 1
    with torch.no_grad():
        own = model(**inputs, **extra).logits
        same = model(**inputs, **extra, position_ids=shift_text_positions(position, ids, end, [0])).logits
        moved = model(**inputs, **extra, position_ids=shift_text_positions(position, ids, end, [5])).logits
    assert torch.allclose(own, same, atol=1e-5), "the positions computed for the jitter are the model's own"
    assert torch.allclose(own[0, :after], moved[0, :after], atol=1e-5), "the prompt up to the picture reads the same"
    assert not torch.allclose(own[0, -1], moved[0, -1], atol=1e-3), "the answer's next word is read at another distance"

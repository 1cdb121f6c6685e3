"""Qwen2-VL and Qwen3-VL folders, and LoRA, through the same operations as the tiny Qwen2.5-VL."""

from __future__ import annotations

import json
import shutil

import pytest
import transformers

from conftest import prompts
from ivgr_engine.server import Engine

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


def small_folder(tiny_model, out, model_type: str):
    """A randomly initialised folder of another Qwen-VL architecture, sharing the tiny tokenizer."""
    import torch

    for name in TOKENIZER_FILES:
        shutil.copyfile(tiny_model / name, out / name)
    base = json.loads((tiny_model / "config.json").read_text())
    ids = {k: base[k] for k in ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id")}
    text = {"vocab_size": base["vocab_size"], "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 2048,
            "bos_token_id": base["bos_token_id"], "eos_token_id": base["eos_token_id"], "pad_token_id": base["pad_token_id"]}
    pre = json.loads((tiny_model / "preprocessor_config.json").read_text())
    if model_type == "qwen2_vl":
        config = transformers.Qwen2VLConfig(
            text_config={**text, "rope_scaling": {"type": "mrope", "mrope_section": [4, 6, 6]}},
            vision_config={"depth": 1, "embed_dim": 64, "hidden_size": 128, "num_heads": 4, "mlp_ratio": 2},
            **ids)
        model = transformers.Qwen2VLForConditionalGeneration(config)
    else:
        config = transformers.Qwen3VLConfig(
            text_config={**text, "head_dim": 32, "rope_scaling": {"rope_type": "default", "mrope_section": [4, 6, 6], "mrope_interleaved": True}},
            vision_config={"depth": 2, "hidden_size": 64, "intermediate_size": 128, "num_heads": 4, "out_hidden_size": 128,
                           "num_position_embeddings": 256, "deepstack_visual_indexes": [0]},
            **ids)
        model = transformers.Qwen3VLForConditionalGeneration(config)
        pre.update({"patch_size": 16, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]})
        pre["min_pixels"] = pre["max_pixels"] = 224 * 224
    torch.manual_seed(0)
    model.save_pretrained(str(out))
    (out / "preprocessor_config.json").write_text(json.dumps(pre))
    return out


CASES = [("qwen2_5_vl", True), ("qwen2_vl", False)]
if hasattr(transformers, "Qwen3VLForConditionalGeneration"):
    CASES.append(("qwen3_vl", False))


@pytest.mark.parametrize("model_type,lora", CASES)
def test_generate_update_save_restore(tiny_model, images, tmp_path, model_type, lora):
    folder = tiny_model if model_type == "qwen2_5_vl" else small_folder(tiny_model, tmp_path, model_type)
    e = Engine()
    load = {"model": str(folder), "learningRate": 1e-3}
    if lora:
        load["lora"] = {"rank": 4, "alpha": 8}
    info = e.call("load", load)
    expected = {"qwen2_5_vl": "qwen2-1000", "qwen2_vl": "qwen2-1000", "qwen3_vl": "qwen2-1000"}[model_type]
    assert info["coordConvention"] == expected
    if lora:
        assert sum(p.numel() for p in e.policy.trainable) < info["parameters"] / 10
    g = e.call("generate", {"prompts": prompts(images, 2), "n": 2, "temperature": 1.0, "maxTokens": 6, "seed": 0, "keep": True})
    assert len(g["samples"]) == 4
    items = [{"rolloutId": s["rolloutId"], "advantage": 1.0 if i % 2 else -1.0} for i, s in enumerate(g["samples"])]
    # With LoRA the base model (adapters off) is the KL reference.
    u = e.call("update", {"items": items, "clipEpsilon": 0.2, "klBeta": 0.05 if lora else 0.0, "aggregation": "token",
                          "microBatch": 2, "maxGradNorm": 1.0})
    assert u["clipFraction"] == 0.0 and u["gradNorm"] > 0
    greedy = {"prompts": prompts(images, 1), "n": 1, "temperature": 0.0, "maxTokens": 6, "seed": 0, "keep": False}
    e.call("save", {"dir": str(tmp_path / "ck"), "step": 1})
    want = e.call("generate", greedy)["samples"][0]["text"]
    g = e.call("generate", {**greedy, "temperature": 1.0, "keep": True, "n": 2})
    e.call("update", {"items": [{"rolloutId": s["rolloutId"], "advantage": 1.0} for s in g["samples"]], "clipEpsilon": 0.2,
                      "klBeta": 0.0, "aggregation": "token", "microBatch": 2, "maxGradNorm": 1.0, "learningRate": 0.05})
    e.call("restore", {"dir": str(tmp_path / "ck")})
    assert e.call("generate", greedy)["samples"][0]["text"] == want
    assert (tmp_path / "ck" / ("adapter_model.safetensors" if lora else "model.safetensors")).is_file()


def test_qwen25_folder_without_ivgr_json_reports_absolute_pixels(tiny_model, tmp_path):
    folder = tmp_path / "plain"
    shutil.copytree(tiny_model, folder)
    (folder / "ivgr.json").unlink()
    info = Engine().call("load", {"model": str(folder)})
    assert info["coordConvention"] == "qwen25-abs" and info["imageSize"] == 0

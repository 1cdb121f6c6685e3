"""`export_onnx`: the exported graphs, run with onnxruntime, give the PyTorch model's logits."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import transformers

from ivgr_engine.errors import EngineError
from ivgr_engine.prompts import chat_text
from ivgr_engine.server import Engine
from test_architectures import small_folder

ort = pytest.importorskip("onnxruntime")

# float32 on both sides; the differences are summation order only (measured ~2e-6).
ATOL = 1e-4


class Exported:
    """The three graphs of an export folder, driven the way the ORT engine drives them."""

    def __init__(self, folder):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.manifest = json.loads((folder / "manifest.json").read_text())
        g = self.manifest["graphs"]
        self.vision = ort.InferenceSession(str(folder / g["vision"]["file"]), opts)
        self.embed = ort.InferenceSession(str(folder / g["embed"]["file"]), opts)
        self.decoder = ort.InferenceSession(str(folder / g["decoder"]["file"]), opts)
        t = self.manifest["text"]
        self.layers, self.kv, self.hd = t["layers"], t["kvHeads"], t["headDim"]

    def image_embeds(self, pixel_values, grid):
        return self.vision.run(None, {"pixel_values": pixel_values.numpy(), "grid_thw": grid.numpy()})[0]

    def embeds(self, ids, image_token, feats):
        e = self.embed.run(None, {"input_ids": ids.numpy()})[0]
        e[(ids == image_token).numpy()] = feats
        return e

    def empty(self, batch):
        return [np.zeros((batch, self.kv, 0, self.hd), np.float32)] * (2 * self.layers)

    def step(self, embeds, mask, positions, keep, past):
        feeds = {"inputs_embeds": embeds, "attention_mask": mask, "position_ids": positions,
                 "num_logits_to_keep": np.array(keep, dtype=np.int64)}
        for i in range(self.layers):
            feeds[f"past_key_values.{i}.key"] = past[2 * i]
            feeds[f"past_key_values.{i}.value"] = past[2 * i + 1]
        out = self.decoder.run(None, feeds)
        return out[0], out[1:]


def encode(policy, image, question="What color is the square? (A) red (B) blue"):
    text = chat_text([{"role": "user", "text": question}], 1, "test")
    return policy.encoder.encode(text, [image], "test")


def torch_forward(policy, ids, mask, pv, grid):
    types = (ids == policy.image_token_id).int()
    inner = policy.base_forward_owner().model
    with torch.no_grad():
        out = policy.model(input_ids=ids, attention_mask=mask, pixel_values=pv, image_grid_thw=grid,
                           mm_token_type_ids=types, use_cache=False)
        pos, _ = inner.get_rope_index(ids, types, image_grid_thw=grid, attention_mask=mask)
    return out.logits.numpy(), pos.numpy()


def image_features(policy, pv, grid):
    with torch.no_grad():
        out = policy.base_forward_owner().model.get_image_features(pv, grid)
    feats = out.pooler_output if hasattr(out, "pooler_output") else out
    return torch.cat(list(feats)).numpy()


def loaded(folder, **load) -> Engine:
    torch.set_num_threads(1)
    e = Engine()
    e.call("load", {"model": str(folder), "seed": 0, **load})
    e.policy.model.eval()
    return e


def check_logits(e: Engine, x: Exported, image: str) -> None:
    """Full-sequence logits, then the last tokens one at a time through the key/value cache."""
    enc = encode(e.policy, image)
    ids = torch.tensor([enc.ids])
    mask = torch.ones_like(ids)
    want, pos = torch_forward(e.policy, ids, mask, enc.pixel_values, enc.grid_thw)
    embeds = x.embeds(ids, e.policy.image_token_id, x.image_embeds(enc.pixel_values, enc.grid_thw))
    n = ids.shape[1]
    got, _ = x.step(embeds, mask.numpy(), pos, n, x.empty(1))
    np.testing.assert_allclose(got, want, atol=ATOL)
    start = n - 4
    got, past = x.step(embeds[:, :start], mask.numpy()[:, :start], pos[:, :, :start], 1, x.empty(1))
    np.testing.assert_allclose(got[0, -1], want[0, start - 1], atol=ATOL)
    for j in range(start, n):
        got, past = x.step(embeds[:, j:j + 1], mask.numpy()[:, :j + 1], pos[:, :, j:j + 1], 1, past)
        assert past[0].shape[2] == j + 1
        np.testing.assert_allclose(got[0, -1], want[0, j], atol=ATOL)


def test_export_matches_torch_vision_logits_cache_and_padding(tiny_model, images, tmp_path):
    e = loaded(tiny_model)
    out = tmp_path / "onnx"
    files = e.call("export_onnx", {"dir": str(out), "source": "weights-digest"})["files"]
    assert all((out / f).is_file() for f in files)
    x = Exported(out)
    assert x.manifest["source"] == "weights-digest"

    # Vision: two images of different grids in one call (block-diagonal and windowed attention).
    enc = encode(e.policy, images["red"])
    other = torch.randn(8 * 12, enc.pixel_values.shape[1])
    pv = torch.cat([enc.pixel_values, other])
    grid = torch.cat([enc.grid_thw, torch.tensor([[1, 8, 12]])])
    np.testing.assert_allclose(x.image_embeds(pv, grid), image_features(e.policy, pv, grid), atol=ATOL)

    check_logits(e, x, images["red"])

    # A left-padded batch: the shorter row's logits match where it has tokens.
    ids = torch.tensor(enc.ids)
    short = ids[:-5]
    batch = torch.full((2, len(ids)), e.policy.pad_id)
    batch[0], batch[1, 5:] = ids, short
    mask = torch.zeros_like(batch)
    mask[0], mask[1, 5:] = 1, 1
    both_pv, both_grid = torch.cat([enc.pixel_values] * 2), torch.cat([enc.grid_thw] * 2)
    want, pos = torch_forward(e.policy, batch, mask, both_pv, both_grid)
    feats = x.image_embeds(both_pv, both_grid)
    got, _ = x.step(x.embeds(batch, e.policy.image_token_id, feats), mask.numpy(), pos, len(ids), x.empty(2))
    valid = mask.numpy().astype(bool)
    np.testing.assert_allclose(got[valid], want[valid], atol=ATOL)


def test_manifest_describes_the_model(tiny_model, tmp_path):
    e = loaded(tiny_model)
    e.call("export_onnx", {"dir": str(tmp_path / "x")})
    m = json.loads((tmp_path / "x" / "manifest.json").read_text())
    p = e.policy
    assert m["coordConvention"] == "qwen2-1000" and m["dtype"] == "float32" and m["opset"] >= 17
    assert m["image"]["side"] == 224 and m["image"]["patchSize"] == 14 and m["image"]["mergeSize"] == 2
    assert m["image"]["mean"] == pytest.approx(p.image_processor.image_mean)
    assert m["tokens"]["eos"] == p.eos_ids and m["tokens"]["pad"] == p.pad_id
    assert m["tokens"]["image"] == p.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert m["text"]["layers"] == 4 and m["text"]["mropeSection"] == [8, 12, 12]
    assert m["source"] is None
    # The exported tokenizer encodes like the engine's.
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tmp_path / "x" / "tokenizer.json"))
    text = "<|im_start|>user\n<think>The square <box>[1,2,3,4]</box></think><|im_end|>"
    assert tok.encode(text, add_special_tokens=False).ids == p.tokenizer(text, add_special_tokens=False)["input_ids"]


def test_qwen2_vl_export(tiny_model, images, tmp_path):
    folder = small_folder(tiny_model, tmp_path, "qwen2_vl")
    e = loaded(folder)
    e.call("export_onnx", {"dir": str(tmp_path / "x")})
    check_logits(e, Exported(tmp_path / "x"), images["blue"])


def test_lora_export_merges_the_adapter_and_keeps_training_state(tiny_model, images, tmp_path):
    e = loaded(tiny_model, lora={"rank": 4, "alpha": 8})
    with torch.no_grad():
        for name, p in e.policy.model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    before = {n: p.detach().clone() for n, p in e.policy.model.named_parameters()}
    e.call("export_onnx", {"dir": str(tmp_path / "x")})
    for n, p in e.policy.model.named_parameters():
        assert torch.equal(p, before[n]), f"{n} changed by the export"
    check_logits(e, Exported(tmp_path / "x"), images["red"])


def test_bad_requests(tiny_model, tmp_path):
    e = loaded(tiny_model)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(EngineError, match="cannot write"):
        e.call("export_onnx", {"dir": str(blocker / "x")})
    with pytest.raises(EngineError, match="dir is required"):
        e.call("export_onnx", {})


@pytest.mark.skipif(not hasattr(transformers, "Qwen3VLForConditionalGeneration"), reason="needs Qwen3-VL")
def test_qwen3_vl_is_refused_by_name(tiny_model, tmp_path):
    e = loaded(small_folder(tiny_model, tmp_path, "qwen3_vl"))
    with pytest.raises(EngineError, match="qwen3_vl is not supported"):
        e.call("export_onnx", {"dir": str(tmp_path / "x")})

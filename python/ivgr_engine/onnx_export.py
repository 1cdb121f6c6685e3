"""`export_onnx`: the loaded weights as ONNX, in the three-graph layout ONNX runtimes use for
Qwen2-VL-family models, for the ORT engine (src/engine/ort).

    onnx/vision_encoder.onnx   pixel_values [patches, C*T*P*P], grid_thw [images, 3] -> image_embeds [tokens, hidden]
    onnx/embed_tokens.onnx     input_ids [batch, seq] -> inputs_embeds [batch, seq, hidden]
    onnx/decoder_model_merged.onnx
        inputs_embeds [batch, seq, hidden], attention_mask [batch, past+seq], position_ids [3, batch, seq],
        num_logits_to_keep [] (int64), past_key_values.{i}.key/value [batch, kv_heads, past, head_dim]
        -> logits [batch, num_logits_to_keep, vocab], present.{i}.key/value [batch, kv_heads, past+seq, head_dim]
    tokenizer.json, manifest.json (sizes, normalisation, token ids, coordinate convention, file list)

The graphs are traced from export-friendly forwards written here over the model's own modules
(projections, norms, MLPs), so nothing depends on a Python loop over images: the vision
encoder's block-diagonal (per image and frame) and windowed attention are masks computed from
grid_thw inside the graph, and the decoder's causal mask comes from attention_mask. Attention is
permutation-equivariant under a matching mask, so the vision encoder works in the processor's
patch order without Qwen2.5-VL's window reordering and gives the same embeddings.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from . import dist
from .errors import CHECKPOINT_ERROR, EngineError, invalid
from .params import field

FORMAT = 1
OPSET = 17
VISION_FILE = "onnx/vision_encoder.onnx"
EMBED_FILE = "onnx/embed_tokens.onnx"
DECODER_FILE = "onnx/decoder_model_merged.onnx"
SUPPORTED = ("qwen2_vl", "qwen2_5_vl")


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _config_value(cfg, name: str, default=None):
    text = getattr(cfg, "text_config", None)
    if text is not None and getattr(text, name, None) is not None:
        return getattr(text, name)
    return getattr(cfg, name, default)


def mrope_section(cfg) -> list[int]:
    for holder in (getattr(cfg, "text_config", None), cfg):
        for attr in ("rope_parameters", "rope_scaling"):
            rope = getattr(holder, attr, None) if holder is not None else None
            if isinstance(rope, dict) and rope.get("mrope_section"):
                return [int(x) for x in rope["mrope_section"]]
    raise invalid("export_onnx: the model config has no rope mrope_section (expected a Qwen2-VL-family model)")


class Parts:
    """The modules of a Qwen2-VL / Qwen2.5-VL model, wherever the installed transformers keeps them."""

    def __init__(self, model: nn.Module):
        inner = getattr(model, "model", model)
        self.visual = getattr(inner, "visual", None) or getattr(model, "visual", None)
        lm = getattr(inner, "language_model", None)
        self.lm = lm if lm is not None and hasattr(lm, "layers") else inner
        self.lm_head = model.lm_head
        if self.visual is None or not hasattr(self.lm, "layers"):
            raise invalid("export_onnx: cannot find the vision tower and decoder layers in this model")


class VisionEncoder(nn.Module):
    """Patches of any number of images -> merged image embeddings, in the processor's order."""

    def __init__(self, visual: nn.Module, vcfg, windowed: bool):
        super().__init__()
        self.visual = visual
        self.merge = int(vcfg.spatial_merge_size)
        self.heads = int(vcfg.num_heads)
        self.windowed = windowed
        self.full_blocks = set(getattr(vcfg, "fullatt_block_indexes", []) or [])
        self.window = int(vcfg.window_size) // self.merge // int(vcfg.patch_size) if windowed else 0
        self.register_buffer("inv_freq", visual.rotary_pos_emb.inv_freq.detach().float().clone(), persistent=False)

    def forward(self, pixel_values: torch.Tensor, grid_thw: torch.Tensor) -> torch.Tensor:
        x = self.visual.patch_embed(pixel_values)
        n = x.shape[0]
        m = self.merge
        grid = grid_thw.long()
        counts = grid[:, 0] * grid[:, 1] * grid[:, 2]
        ends = torch.cumsum(counts, 0)
        idx = torch.arange(n, dtype=torch.long)
        image = (idx.unsqueeze(1) >= ends.unsqueeze(0)).long().sum(1)
        local = idx - (ends - counts)[image]
        h = grid[:, 1][image]
        w = grid[:, 2][image]
        frame = torch.div(local, h * w, rounding_mode="floor")
        rest = local - frame * h * w
        block = torch.div(rest, m * m, rounding_mode="floor")
        within = rest - block * m * m
        wide = torch.div(w, m, rounding_mode="floor")
        brow = torch.div(block, wide, rounding_mode="floor")
        bcol = block - brow * wide
        hpos = brow * m + torch.div(within, m, rounding_mode="floor")
        wpos = bcol * m + (within - torch.div(within, m, rounding_mode="floor") * m)
        freqs = torch.cat([hpos.unsqueeze(1).float() * self.inv_freq, wpos.unsqueeze(1).float() * self.inv_freq], dim=-1)
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)

        neg = torch.finfo(torch.float32).min
        same = (image.unsqueeze(1) == image.unsqueeze(0)) & (frame.unsqueeze(1) == frame.unsqueeze(0))
        full_bias = torch.zeros(same.shape, dtype=torch.float32).masked_fill(~same, neg)
        window_bias = full_bias
        if self.windowed:
            wr = torch.div(brow, self.window, rounding_mode="floor")
            wc = torch.div(bcol, self.window, rounding_mode="floor")
            inside = same & (wr.unsqueeze(1) == wr.unsqueeze(0)) & (wc.unsqueeze(1) == wc.unsqueeze(0))
            window_bias = torch.zeros(inside.shape, dtype=torch.float32).masked_fill(~inside, neg)

        for i, blk in enumerate(self.visual.blocks):
            bias = full_bias if (not self.windowed or i in self.full_blocks) else window_bias
            x = x + self._attend(blk.attn, blk.norm1(x), cos, sin, bias)
            x = x + blk.mlp(blk.norm2(x))
        return self.visual.merger(x)

    def _attend(self, attn: nn.Module, x: torch.Tensor, cos, sin, bias) -> torch.Tensor:
        n = x.shape[0]
        q, k, v = attn.qkv(x).reshape(n, 3, self.heads, -1).permute(1, 0, 2, 3).unbind(0)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        scores = torch.matmul(q, k.transpose(1, 2)) * (q.shape[-1] ** -0.5) + bias
        out = torch.matmul(torch.softmax(scores, dim=-1), v)
        return attn.proj(out.transpose(0, 1).reshape(n, -1))


class Embed(nn.Module):
    def __init__(self, embed_tokens: nn.Module):
        super().__init__()
        self.embed_tokens = embed_tokens

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(input_ids)


class Decoder(nn.Module):
    """Embeddings (text and image) -> logits of the last positions, with the key/value cache in and out."""

    def __init__(self, parts: Parts, cfg):
        super().__init__()
        self.layers = parts.lm.layers
        self.norm = parts.lm.norm
        self.lm_head = parts.lm_head
        rotary = parts.lm.rotary_emb
        self.register_buffer("inv_freq", rotary.inv_freq.detach().float().clone(), persistent=False)
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0))
        self.section = mrope_section(cfg)
        self.heads = int(_config_value(cfg, "num_attention_heads"))
        self.kv_heads = int(_config_value(cfg, "num_key_value_heads"))
        self.head_dim = int(_config_value(cfg, "hidden_size")) // self.heads

    def forward(self, inputs_embeds, attention_mask, position_ids, num_logits_to_keep, *past):
        b, s = inputs_embeds.shape[0], inputs_embeds.shape[1]
        total = attention_mask.shape[1]
        # Rows (time, height, width) of the 3-D positions take turns over the rotary frequency bands.
        freqs = position_ids.unsqueeze(-1).float() * self.inv_freq
        bands = freqs.split(self.section, dim=-1)
        freqs = torch.cat([band[i % 3] for i, band in enumerate(bands)], dim=-1)
        emb = torch.cat([freqs, freqs], dim=-1)
        cos = (emb.cos() * self.rope_scale).unsqueeze(1)
        sin = (emb.sin() * self.rope_scale).unsqueeze(1)

        query_at = torch.arange(s, dtype=torch.long) + (total - s)
        key_at = torch.arange(total, dtype=torch.long)
        allowed = (key_at.unsqueeze(0) <= query_at.unsqueeze(1)).unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(1)
        bias = torch.zeros(allowed.shape, dtype=torch.float32).masked_fill(~allowed, torch.finfo(torch.float32).min)

        hidden = inputs_embeds
        presents = []
        groups = self.heads // self.kv_heads
        for i, layer in enumerate(self.layers):
            attn = layer.self_attn
            x = layer.input_layernorm(hidden)
            q = attn.q_proj(x).reshape(b, s, self.heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(x).reshape(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
            v = attn.v_proj(x).reshape(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            if groups > 1:
                k = k.repeat_interleave(groups, dim=1)
                v = v.repeat_interleave(groups, dim=1)
            scores = torch.matmul(q, k.transpose(2, 3)) * (self.head_dim ** -0.5) + bias
            out = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, self.heads * self.head_dim)
            hidden = hidden + attn.o_proj(out)
            hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
        hidden = self.norm(hidden)
        keep = torch.arange(s, dtype=torch.long)[s - num_logits_to_keep:]
        logits = self.lm_head(hidden.index_select(1, keep)).float()
        return (logits, *presents)


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str], axes: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the torch.export one (which needs onnxscript).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, args, str(path), input_names=inputs, output_names=outputs, dynamic_axes=axes,
            opset_version=OPSET, do_constant_folding=True, dynamo=False,
        )


def _token_id(tokenizer, token: str) -> int | None:
    tid = tokenizer.convert_tokens_to_ids(token)
    return tid if isinstance(tid, int) and tid != tokenizer.unk_token_id else None


def manifest(policy, model: nn.Module, files: list[str], source: str | None) -> dict:
    cfg = model.config
    vcfg = cfg.vision_config
    ip = policy.image_processor
    tok = policy.tokenizer
    special = {t: _token_id(tok, t) for t in (
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
        "<|image_pad|>", "<|video_pad|>",
    )}
    heads = int(_config_value(cfg, "num_attention_heads"))
    size = getattr(ip, "size", None) or {}
    return {
        "format": FORMAT,
        "architecture": policy.architecture,
        "modelType": cfg.model_type,
        "parameters": policy.parameters(),
        "dtype": "float32",
        "opset": OPSET,
        "coordConvention": policy.convention,
        "source": source,
        "exportedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
        "image": {
            # Side of the square every image is resized to first (0: the processor's own resizing only).
            "side": policy.image_side,
            "patchSize": int(vcfg.patch_size),
            "temporalPatchSize": int(vcfg.temporal_patch_size),
            "mergeSize": int(vcfg.spatial_merge_size),
            "channels": int(getattr(vcfg, "in_channels", getattr(vcfg, "in_chans", 3))),
            "minPixels": int(getattr(ip, "min_pixels", None) or size.get("shortest_edge", 56 * 56)),
            "maxPixels": int(getattr(ip, "max_pixels", None) or size.get("longest_edge", 28 * 28 * 1280)),
            "rescaleFactor": float(getattr(ip, "rescale_factor", 1 / 255)),
            "mean": [float(x) for x in ip.image_mean],
            "std": [float(x) for x in ip.image_std],
        },
        "text": {
            "hiddenSize": int(_config_value(cfg, "hidden_size")),
            "layers": int(_config_value(cfg, "num_hidden_layers")),
            "heads": heads,
            "kvHeads": int(_config_value(cfg, "num_key_value_heads")),
            "headDim": int(_config_value(cfg, "hidden_size")) // heads,
            "vocabSize": int(_config_value(cfg, "vocab_size")),
            "mropeSection": mrope_section(cfg),
        },
        "tokens": {
            "special": special,
            "pad": policy.pad_id,
            "eos": list(policy.eos_ids),
            "suppress": list(policy.suppress),
            "image": policy.image_token_id,
        },
        "chat": {"defaultSystem": _default_system()},
        "graphs": {
            "vision": {"file": VISION_FILE, "inputs": ["pixel_values", "grid_thw"], "outputs": ["image_embeds"]},
            "embed": {"file": EMBED_FILE, "inputs": ["input_ids"], "outputs": ["inputs_embeds"]},
            "decoder": {
                "file": DECODER_FILE,
                "inputs": ["inputs_embeds", "attention_mask", "position_ids", "num_logits_to_keep", "past_key_values.{i}.key", "past_key_values.{i}.value"],
                "outputs": ["logits", "present.{i}.key", "present.{i}.value"],
            },
        },
    }


def _default_system() -> str:
    from .prompts import DEFAULT_SYSTEM

    return DEFAULT_SYSTEM


def export_model(policy, out: Path, source: str | None) -> list[str]:
    """Writes the export into `out` (built aside, then renamed into place) and returns its files."""
    model = policy.base_forward_owner()
    if next(model.parameters()).device.type != "cpu" or next(model.parameters()).dtype != torch.float32:
        # ONNX files hold float32 weights traced on CPU; the engine's own copy stays where it is.
        model = copy.deepcopy(model).to("cpu", torch.float32)
    cfg = model.config
    if cfg.model_type not in SUPPORTED:
        raise invalid(f"export_onnx: {cfg.model_type} is not supported (expected one of {', '.join(SUPPORTED)})")
    parts = Parts(model)
    was_training = model.training
    try:
        return _write(policy, model, parts, out, source)
    finally:
        model.train(was_training)


def _write(policy, model: nn.Module, parts: Parts, out: Path, source: str | None) -> list[str]:
    cfg = model.config
    vcfg = cfg.vision_config
    windowed = cfg.model_type == "qwen2_5_vl"
    tmp = out.with_name(out.name + f".exporting-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    vision = VisionEncoder(parts.visual, vcfg, windowed).eval()
    embed = Embed(parts.lm.embed_tokens).eval()
    decoder = Decoder(parts, cfg).eval()

    side = policy.image_side or 224
    p, t, m = int(vcfg.patch_size), int(vcfg.temporal_patch_size), int(vcfg.spatial_merge_size)
    channels = int(getattr(vcfg, "in_channels", getattr(vcfg, "in_chans", 3)))
    # Example inputs only fix the trace; every size marked dynamic below stays free.
    gh = gw = max(2 * m, (side // p) // m * m)
    grid = torch.tensor([[1, gh, gw]], dtype=torch.long)
    pixels = torch.randn(gh * gw, channels * t * p * p)
    layers = decoder.layers
    kv, hd = decoder.kv_heads, decoder.head_dim
    hidden = int(_config_value(cfg, "hidden_size"))
    b, s, past_len = 2, 3, 4
    past = []
    names_in, names_out, axes = [], [], {}
    for i in range(len(layers)):
        for kind in ("key", "value"):
            past.append(torch.randn(b, kv, past_len, hd))
            names_in.append(f"past_key_values.{i}.{kind}")
            names_out.append(f"present.{i}.{kind}")
            axes[names_in[-1]] = {0: "batch", 2: "past_sequence_length"}
            axes[names_out[-1]] = {0: "batch", 2: "total_sequence_length"}
    with torch.no_grad():
        _export(vision, (pixels, grid), tmp / VISION_FILE, ["pixel_values", "grid_thw"], ["image_embeds"],
                {"pixel_values": {0: "num_patches"}, "grid_thw": {0: "num_images"}, "image_embeds": {0: "num_image_tokens"}})
        _export(embed, (torch.zeros(b, s, dtype=torch.long),), tmp / EMBED_FILE, ["input_ids"], ["inputs_embeds"],
                {"input_ids": {0: "batch", 1: "sequence_length"}, "inputs_embeds": {0: "batch", 1: "sequence_length"}})
        decoder_args = (
            torch.randn(b, s, hidden), torch.ones(b, past_len + s, dtype=torch.long),
            torch.arange(s).view(1, 1, s).expand(3, b, s).contiguous(), torch.tensor(2, dtype=torch.long), *past,
        )
        axes.update({
            "inputs_embeds": {0: "batch", 1: "sequence_length"},
            "attention_mask": {0: "batch", 1: "total_sequence_length"},
            "position_ids": {1: "batch", 2: "sequence_length"},
            "logits": {0: "batch", 1: "num_logits"},
        })
        _export(decoder, decoder_args, tmp / DECODER_FILE,
                ["inputs_embeds", "attention_mask", "position_ids", "num_logits_to_keep", *names_in], ["logits", *names_out], axes)
    # tokenizer.json and tokenizer_config.json, which JS tokenizer libraries read together.
    policy.tokenizer.save_pretrained(str(tmp))
    files = sorted(str(f.relative_to(tmp)).replace(os.sep, "/") for f in tmp.rglob("*") if f.is_file())
    files.append("manifest.json")
    (tmp / "manifest.json").write_text(json.dumps(manifest(policy, model, files, source), indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, out)
    return files


def export_onnx(policy, params: dict) -> dict:
    w = "export_onnx"
    out = Path(field(params, "dir", str, w)).expanduser()
    source = field(params, "source", str, w, None)
    if policy.parallel.sharded:
        raise invalid("export_onnx: the engine shards its weights (FSDP); export from a single-process engine")
    saved = {}
    if policy.opts.lora:
        # Merging and unmerging rounds the base weights; keep them to put back bit for bit.
        saved = {n: p.detach().clone() for n, p in policy.model.named_parameters() if ".base_layer." in n}
        policy.model.merge_adapter()
    t0 = time.perf_counter()
    try:
        files = export_model(policy, out, source) if dist.is_main() else []
    except EngineError:
        raise
    except (OSError, RuntimeError) as e:
        raise EngineError(CHECKPOINT_ERROR, f"export_onnx: cannot write {out}: {type(e).__name__}: {e}") from None
    finally:
        if policy.opts.lora:
            policy.model.unmerge_adapter()
            with torch.no_grad():
                for n, p in policy.model.named_parameters():
                    if n in saved:
                        p.copy_(saved[n])
    print(f"engine: exported ONNX to {out} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return {"files": files}

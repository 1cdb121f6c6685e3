"""Builds the embedded default policy: a tiny Qwen2.5-VL with its own tokenizer.

`python -m ivgr_engine.tiny --corpus lines.txt --out DIR [--seed N]` writes a folder
that loads exactly like a downloaded Qwen2.5-VL folder (config.json, safetensors
weights, tokenizer, image processor, chat template) plus `ivgr.json`, which tells
the engine the coordinate convention of its traces and the fixed image side.
Nothing is downloaded: the tokenizer is trained on the corpus, the weights are
randomly initialised from the seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

# Qwen's own special tokens (the processor and chat format rely on them).
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
# Trace tags: added tokens that decode as text, so the worker's parser sees them.
TRACE_TOKENS = ["<think>", "</think>", "<answer>", "</answer>", "<box>", "</box>", "<tool_call>", "</tool_call>"]

IMAGE_SIDE = 224
VOCAB_SIZE = 1536

# Qwen2.5-VL's chat template, images only (the engine builds prompts in this same format).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def corpus_digest(corpus: Path, seed: int) -> str:
    h = hashlib.sha256()
    h.update(corpus.read_bytes())
    h.update(f"\nseed={seed}\nside={IMAGE_SIDE}\nvocab={VOCAB_SIZE}\n".encode())
    return h.hexdigest()


def train_tokenizer(lines: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from tokenizers import AddedToken

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(lines, trainer=trainer)
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in TRACE_TOKENS])
    return tok


# Size and position knobs a pretraining recipe may set (`arch` of `build`); the defaults are the demo's model.
DEFAULT_ARCH = {
    "hidden": 256, "layers": 4, "heads": 4, "kvHeads": 2, "intermediate": 640, "ropeTheta": 10000.0,
    "visionDepth": 2, "visionHidden": 128, "visionHeads": 4, "imageSize": IMAGE_SIDE,
}


def model_config(tok, arch: dict | None = None) -> dict:
    """Qwen2.5-VL config.json in the published (flat) layout, sized to a few million parameters."""
    a = {**DEFAULT_ARCH, **(arch or {})}
    ids = {t: tok.token_to_id(t) for t in SPECIAL_TOKENS}
    hidden, heads = int(a["hidden"]), int(a["heads"])
    head_dim = hidden // heads
    # M-RoPE splits the rotary pairs over (time, height, width) in the ratio Qwen uses (1 : 1.5 : 1.5).
    t_pairs = head_dim // 8
    h_pairs = (head_dim // 2 - t_pairs) // 2
    section = [t_pairs, h_pairs, head_dim // 2 - t_pairs - h_pairs]
    return {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"],
        "model_type": "qwen2_5_vl",
        "attention_dropout": 0.0,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
        "vision_token_id": ids["<|vision_pad|>"],
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": int(a["intermediate"]),
        "max_position_embeddings": 4096,
        "max_window_layers": int(a["layers"]),
        "num_attention_heads": heads,
        "num_hidden_layers": int(a["layers"]),
        "num_key_value_heads": int(a["kvHeads"]),
        "rms_norm_eps": 1e-6,
        "rope_theta": float(a["ropeTheta"]),
        "sliding_window": 4096,
        "tie_word_embeddings": True,
        "use_cache": True,
        "use_sliding_window": False,
        "vocab_size": tok.get_vocab_size(),
        "rope_scaling": {"type": "mrope", "mrope_section": section},
        "vision_config": {
            "depth": int(a["visionDepth"]),
            "hidden_act": "silu",
            "hidden_size": int(a["visionHidden"]),
            "intermediate_size": 2 * int(a["visionHidden"]),
            "num_heads": int(a["visionHeads"]),
            "in_chans": 3,
            "in_channels": 3,
            "out_hidden_size": hidden,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "spatial_patch_size": 14,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": [int(a["visionDepth"]) - 1],
            "tokens_per_second": 2,
        },
    }


def preprocessor_config(side: int = IMAGE_SIDE) -> dict:
    pixels = side * side
    return {
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2_5_VLProcessor",
        "do_resize": True,
        "do_rescale": True,
        "do_normalize": True,
        "do_convert_rgb": True,
        "resample": 3,
        "rescale_factor": 1 / 255,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "min_pixels": pixels,
        "max_pixels": pixels,
        "size": {"shortest_edge": pixels, "longest_edge": pixels},
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
    }


def published_key(key: str) -> str:
    """Weight names as in the released checkpoints, which every supported transformers version reads."""
    for new, old in (("model.language_model.", "model."), ("model.visual.", "visual.")):
        if key.startswith(new):
            return old + key[len(new):]
    return key


def build(corpus: Path, out: Path, seed: int, arch: dict | None = None) -> None:
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig, Qwen2_5_VLForConditionalGeneration

    lines = [line for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise SystemExit(f"tiny: corpus {corpus} has no non-empty lines")
    out.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(lines)
    tok.save(str(out / "tokenizer.json"))
    added = {}
    for i in range(tok.get_vocab_size()):
        t = tok.id_to_token(i)
        if t in SPECIAL_TOKENS or t in TRACE_TOKENS:
            added[str(i)] = {
                "content": t, "lstrip": False, "normalized": False, "rstrip": False,
                "single_word": False, "special": t in SPECIAL_TOKENS,
            }
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "Qwen2TokenizerFast",
        "added_tokens_decoder": added,
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": 4096,
        "clean_up_tokenization_spaces": False,
        "split_special_tokens": False,
        "errors": "replace",
        "chat_template": CHAT_TEMPLATE,
    }, indent=2))
    (out / "chat_template.jinja").write_text(CHAT_TEMPLATE)
    side = int({**DEFAULT_ARCH, **(arch or {})}["imageSize"])
    (out / "preprocessor_config.json").write_text(json.dumps(preprocessor_config(side), indent=2))
    cfg = model_config(tok, arch)
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    (out / "generation_config.json").write_text(json.dumps({
        "bos_token_id": cfg["bos_token_id"], "eos_token_id": [cfg["eos_token_id"], cfg["bos_token_id"]],
        "pad_token_id": cfg["pad_token_id"], "do_sample": True, "temperature": 1.0, "top_p": 1.0,
    }, indent=2))

    torch.manual_seed(seed)
    config = AutoConfig.from_pretrained(str(out))
    model = Qwen2_5_VLForConditionalGeneration(config)
    # save_pretrained would rewrite config.json in the installed version's layout; keep the published one.
    state = {published_key(k): v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    params = sum(p.numel() for p in model.parameters())
    (out / "ivgr.json").write_text(json.dumps({
        "coordConvention": "qwen2-1000",
        "imageSize": side,
        "parameters": params,
        "corpusSha256": corpus_digest(corpus, seed),
        "seed": seed,
    }, indent=2))
    print(f"tiny: wrote {out} ({params / 1e6:.2f}M parameters, vocab {tok.get_vocab_size()})", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ivgr_engine.tiny", description=__doc__.splitlines()[0])
    p.add_argument("--corpus", required=True, type=Path, help="text file, one training line per line")
    p.add_argument("--out", required=True, type=Path, help="model folder to write")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if not args.corpus.is_file():
        print(f"tiny: corpus file not found: {args.corpus}", file=sys.stderr)
        return 2
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    build(args.corpus, args.out, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

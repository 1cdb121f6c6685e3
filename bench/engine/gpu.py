"""GPU throughput of the engine's compute path on the real Qwen2.5-VL-3B architecture with
random weights (nothing to download): generate tokens/s and the update's model FLOPs
utilisation (MFU).

python bench/engine/gpu.py [--size 3b|tiny] [--device cuda] [--batch 32] [--new-tokens 256]
                           [--micro-batch 8] [--peak-tflops 989]

Each prompt is one 448×448 image (256 visual tokens) plus 64 text tokens. Generation is forced
to the full length (min_new_tokens) so tokens/s is not flattered by early stops. The update is
the engine's own path (batch.token_logprobs, clipped policy loss, AdamW step) over the sampled
sequences in micro-batches. MFU = 6 · (language-model matmul parameters · tokens + vision parameters ·
patches + output head · scored tokens) / time / peak; peak defaults to H100/H200 dense bf16 (989 TFLOPS). `--size tiny
--device cpu` checks the script itself on a machine without a GPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))

QWEN25_VL_3B = {
    "model_type": "qwen2_5_vl", "hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36,
    "num_attention_heads": 16, "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 128000,
    "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": True, "hidden_act": "silu",
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
    "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
    "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656,
    "vision_config": {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 2048,
                      "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 112,
                      "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2, "hidden_act": "silu", "in_chans": 3},
}
TINY = {
    **QWEN25_VL_3B, "hidden_size": 256, "intermediate_size": 640, "num_hidden_layers": 2, "num_attention_heads": 4,
    "vocab_size": 2048, "rope_scaling": {"type": "mrope", "mrope_section": [8, 12, 12]},
    "bos_token_id": 0, "eos_token_id": 1, "vision_start_token_id": 2, "vision_end_token_id": 3, "vision_token_id": 4,
    "image_token_id": 5, "video_token_id": 6,
    "vision_config": {**QWEN25_VL_3B["vision_config"], "depth": 2, "hidden_size": 128, "intermediate_size": 256,
                      "num_heads": 4, "out_hidden_size": 256, "fullatt_block_indexes": [1]},
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=["3b", "tiny"], default="3b")
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch", type=int, default=32, help="sequences sampled together")
    p.add_argument("--new-tokens", type=int, default=256)
    p.add_argument("--micro-batch", type=int, default=8)
    p.add_argument("--peak-tflops", type=float, default=989.0)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()

    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from ivgr_engine.batch import Seq, token_logprobs

    dev = torch.device(args.device)
    dtype = torch.bfloat16 if dev.type == "cuda" else torch.float32
    cfg = dict(QWEN25_VL_3B if args.size == "3b" else TINY)
    config = Qwen2_5_VLConfig(**cfg)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    with torch.device(dev):
        model = Qwen2_5_VLForConditionalGeneration(config).to(dtype)
    model.train()
    vis = model.model.visual if hasattr(model.model, "visual") else model.visual
    n_vis = sum(p.numel() for p in vis.parameters())
    n_all = sum(p.numel() for p in model.parameters())
    n_embed = model.get_input_embeddings().weight.numel()
    # Matmul parameters of the language model: the embedding table is a lookup, not FLOPs; the
    # output head is counted separately, only on the positions whose logits are kept.
    n_lm = n_all - n_vis - n_embed
    print(f"built {args.size} with random weights in {time.perf_counter() - t0:.1f}s: {n_all / 1e9:.2f}B parameters "
          f"({n_vis / 1e6:.0f}M vision) on {torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'}", file=sys.stderr)

    # One 448×448 image: 32×32 patches of 14 px, merged 2×2 into 256 visual tokens.
    grid = torch.tensor([[1, 32, 32]])
    patches = int(grid.prod())
    patch_dim = 3 * cfg["vision_config"]["temporal_patch_size"] * cfg["vision_config"]["patch_size"] ** 2
    g = torch.Generator().manual_seed(1)
    text = lambda n: torch.randint(100, min(cfg["vocab_size"], 150000), (n,), generator=g)  # noqa: E731
    prompts = []
    for _ in range(args.batch):
        ids = torch.cat([text(8), torch.tensor([cfg["vision_start_token_id"]]), torch.full((patches // 4,), cfg["image_token_id"]),
                         torch.tensor([cfg["vision_end_token_id"]]), text(54)])
        prompts.append(Seq(ids, len(ids), torch.randn(patches, patch_dim, generator=g), grid))
    import inspect

    accepted = inspect.signature(model.forward).parameters
    shim = SimpleNamespace(device=dev, pad_id=0, vision_dtype=dtype, compute=contextlib.nullcontext,
                           accepts_logits_to_keep="logits_to_keep" in accepted, mm_token_types="mm_token_type_ids" in accepted,
                           image_token_id=cfg["image_token_id"], video_token_id=cfg["video_token_id"])
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    from ivgr_engine.batch import left_pad, vision_inputs

    results = {"size": args.size, "parameters": n_all, "batch": args.batch, "newTokens": args.new_tokens, "generate": [], "update": []}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)
    for rep in range(args.reps + 1):  # the first repetition warms up kernels and the allocator
        ids, mask = left_pad([s.ids for s in prompts], 0, dev)
        model.eval()
        sync()
        t = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
                                 do_sample=True, temperature=1.0, top_p=1.0, top_k=None, pad_token_id=0,
                                 suppress_tokens=[cfg["image_token_id"], cfg["video_token_id"], cfg["vision_start_token_id"]],
                                 **vision_inputs(shim, prompts, ids))
        sync()
        tg = time.perf_counter() - t
        model.train()
        seqs = [Seq(torch.cat([s.ids, out[i, ids.shape[1]:].cpu()]), len(s.ids), s.pixel_values, s.grid_thw) for i, s in enumerate(prompts)]
        n_tokens = sum(len(s.ids) for s in seqs)
        gen_tokens = sum(len(s.ids) - s.start for s in seqs)
        sync()
        t = time.perf_counter()
        for i in range(0, len(seqs), args.micro_batch):
            chunk = seqs[i:i + args.micro_batch]
            lps = token_logprobs(shim, model, chunk)
            # The policy loss at ratio 1 (old = current, detached), as in the first update on a batch.
            loss = sum(-(torch.exp(lp - lp.detach()) * 1.0).sum() for lp in lps) / gen_tokens
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        sync()
        tu = time.perf_counter() - t
        if rep == 0:
            continue
        flops = 6 * (n_lm * n_tokens + n_vis * patches * len(seqs) + n_embed * gen_tokens)
        results["generate"].append({"seconds": tg, "tokensPerSecond": args.batch * args.new_tokens / tg})
        results["update"].append({"seconds": tu, "tokens": n_tokens, "tflops": flops / tu / 1e12, "mfu": flops / tu / 1e12 / args.peak_tflops})
        print(f"rep {rep}: generate {args.batch}×{args.new_tokens} in {tg:.2f}s = {args.batch * args.new_tokens / tg:.0f} tokens/s; "
              f"update {n_tokens} tokens in {tu:.2f}s = {flops / tu / 1e12:.1f} TFLOPS, MFU {100 * flops / tu / 1e12 / args.peak_tflops:.1f} %",
              file=sys.stderr)
    if dev.type == "cuda":
        results["maxMemoryGiB"] = torch.cuda.max_memory_allocated(dev) / 2**30
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

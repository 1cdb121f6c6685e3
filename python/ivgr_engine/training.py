"""`update` (clipped policy gradient with optional k3 KL), `sft_step` and `logprobs`."""

from __future__ import annotations

import time

import torch

from . import dist
from .batch import Seq, token_logprobs
from .errors import Cancelled, invalid, oom_context
from .params import choice, field, integer, number, objects
from .prompts import chat_text, parse_messages
from .rollouts import RolloutStore

LOGPROB_BATCH = 8


def _reference_logprobs(policy, seqs: list[Seq]) -> list[torch.Tensor]:
    with torch.no_grad():
        if policy.opts.lora:
            # The base weights are the reference; under FSDP they are gathered for a local pass.
            with policy.parallel.full_params(), policy.model.disable_adapter():
                return token_logprobs(policy, policy.model, seqs)
        return token_logprobs(policy, policy.reference, seqs)


def _filler(policy) -> Seq:
    """A one-image, four-token sequence for a rank with no micro-batch left, weighted 0: DDP and
    FSDP need every rank to run the same passes through the same modules (vision tower included)."""
    ip = policy.image_processor
    patch = int(getattr(ip, "patch_size", 14))
    temporal = int(getattr(ip, "temporal_patch_size", 2))
    start, end = (policy.tokenizer.convert_tokens_to_ids(t) for t in ("<|vision_start|>", "<|vision_end|>"))
    ids = torch.tensor([start, policy.image_token_id, end, policy.eos_ids[0]], dtype=torch.long)
    merge = policy.encoder.merge
    pixels = torch.zeros((merge * merge, 3 * temporal * patch * patch))
    return Seq(ids, 3, pixels, torch.tensor([[1, merge, merge]]))


def _micro_batches(items: list, size: int, policy) -> list[tuple[list, float]]:
    chunks = [(items[i:i + size], 1.0) for i in range(0, len(items), size)]
    total = dist.max_int(len(chunks), policy.device)
    while len(chunks) < total:
        chunks.append(([None], 0.0))
    return chunks


def update(policy, store: RolloutStore, params: dict, cancel) -> dict:
    t0 = time.perf_counter()
    w = "update"
    raw = objects(params, "items", w, min_items=1)
    items = []
    for i, it in enumerate(raw):
        items.append((field(it, "rolloutId", str, f"{w}.items[{i}]"), number(it, "advantage", f"{w}.items[{i}]", -1e6, 1e6)))
    eps = number(params, "clipEpsilon", w, 0.0, 10.0)
    beta = number(params, "klBeta", w, 0.0, 1e3)
    aggregation = choice(params, "aggregation", w, ("token", "sequence"))
    micro = integer(params, "microBatch", w, 1, 4096)
    max_norm = number(params, "maxGradNorm", w, 0.0, 1e9)
    lr = number(params, "learningRate", w, 0.0, 1.0, None)
    if beta > 0 and policy.reference is None and not policy.opts.lora:
        raise invalid("update.klBeta > 0 needs a reference model: load with reference: true (or with LoRA, whose base is the reference)")
    owned = [store.has(rid) for rid, _ in items]
    anywhere = [any(x) for x in zip(*dist.gather(owned))]
    for (rid, _), ok in zip(items, anywhere):
        if not ok:
            store.get(rid, w)
    mine = [(store.get(rid, w), adv, rid) for (rid, adv), own in zip(items, owned) if own]
    for r, _, rid in mine:
        if not r.kept:
            raise invalid(f"update: rollout {rid!r} was generated with keep: false, so it has no old log-probs to train on")

    policy.set_learning_rate(lr)
    n_tokens = dist.sum_float(float(sum(int(r.gen_mask.sum()) for r, _, _ in mine)), policy.device)
    n_seqs = float(len(items))
    if n_tokens == 0:
        raise invalid("update: the rollouts have no generated tokens to train on")
    module = policy.train_module()
    # DDP averages gradients over ranks; the loss is a sum over the whole batch, so scale it back.
    scale = float(dist.world())
    loss_sum = kl_sum = clipped = 0.0
    chunks = _micro_batches(mine, micro, policy)
    policy.optimizer.zero_grad(set_to_none=True)
    for k, (chunk, weight) in enumerate(chunks):
        if cancel.is_set() and dist.world() == 1:
            policy.optimizer.zero_grad(set_to_none=True)
            raise Cancelled("update")
        real = weight > 0
        seqs = [Seq(r.ids, r.start, r.pixel_values, r.grid_thw) for r, _, _ in chunk] if real else [_filler(policy)]
        with policy.parallel.accumulate(k == len(chunks) - 1), oom_context("update", len(seqs)):
            lps = token_logprobs(policy, module, seqs)
            # Every rank runs the reference pass (fillers too): under FSDP it gathers weights collectively.
            refs = _reference_logprobs(policy, seqs) if beta > 0 else None
            total = torch.zeros((), device=policy.device)
            for j, lp in enumerate(lps):
                if not real:
                    total = total + lp.sum() * 0.0
                    continue
                r, adv, _ = chunk[j]
                mask = r.gen_mask.to(policy.device).float()
                old = r.old_logprobs.to(policy.device)
                ratio = torch.exp(lp - old)
                pg1 = -adv * ratio
                pg2 = -adv * torch.clamp(ratio, 1.0 - eps, 1.0 + eps)
                tok = torch.maximum(pg1, pg2)
                if refs is not None:
                    d = refs[j] - lp
                    k3 = torch.exp(d) - d - 1.0
                    tok = tok + beta * k3
                    kl_sum += float((k3.detach() * mask).sum())
                clipped += float(((pg2 > pg1).float() * mask).sum())
                if aggregation == "token":
                    contrib = (tok * mask).sum() / n_tokens
                else:
                    contrib = (tok * mask).sum() / mask.sum().clamp(min=1.0) / n_seqs
                total = total + contrib
            loss_sum += float(total.detach())
            (total * scale).backward()
    norm = policy.optimizer_step(max_norm)
    store.drop([rid for rid, _ in items])
    return {
        "loss": dist.sum_float(loss_sum, policy.device),
        "kl": dist.sum_float(kl_sum, policy.device) / n_tokens,
        "clipFraction": dist.sum_float(clipped, policy.device) / n_tokens,
        "gradNorm": norm,
        "seconds": time.perf_counter() - t0,
    }


def _target_seqs(policy, raw: list[dict], where: str, with_eos: bool) -> list[Seq]:
    seqs = []
    for i, ex in enumerate(raw):
        wi = f"{where}[{i}]"
        images, messages = parse_messages(ex, wi)
        target = field(ex, "target", str, wi)
        enc = policy.encoder.encode(chat_text(messages, len(images), wi), images, wi)
        tgt = policy.tokenizer(target, add_special_tokens=False)["input_ids"] + (policy.eos_ids[:1] if with_eos else [])
        if not tgt:
            raise invalid(f"{wi}.target is empty")
        seqs.append(Seq(torch.tensor(enc.ids + tgt, dtype=torch.long), len(enc.ids), enc.pixel_values, enc.grid_thw))
    return seqs


def sft_step(policy, params: dict, cancel) -> dict:
    t0 = time.perf_counter()
    w = "sft_step"
    raw = objects(params, "examples", w, min_items=1)
    micro = integer(params, "microBatch", w, 1, 4096)
    lr = number(params, "learningRate", w, 0.0, 1.0, None)
    max_norm = number(params, "maxGradNorm", w, 0.0, 1e9, 1.0)
    mine_idx = list(dist.shard(len(raw)))
    seqs = _target_seqs(policy, [raw[i] for i in mine_idx], f"{w}.examples", with_eos=True)
    policy.set_learning_rate(lr)
    n_tokens = dist.sum_float(float(sum(len(s.ids) - s.start for s in seqs)), policy.device)
    module = policy.train_module()
    scale = float(dist.world())
    chunks = _micro_batches(seqs, micro, policy)
    loss_sum = 0.0
    policy.optimizer.zero_grad(set_to_none=True)
    for k, (chunk, weight) in enumerate(chunks):
        if cancel.is_set() and dist.world() == 1:
            policy.optimizer.zero_grad(set_to_none=True)
            raise Cancelled("sft_step")
        batch = chunk if weight > 0 else [_filler(policy)]
        with policy.parallel.accumulate(k == len(chunks) - 1), oom_context("sft_step", len(batch)):
            lps = token_logprobs(policy, module, batch)
            total = -sum(lp.sum() for lp in lps) / n_tokens * weight
            loss_sum += float(total.detach())
            (total * scale).backward()
    policy.optimizer_step(max_norm)
    return {"loss": dist.sum_float(loss_sum, policy.device), "seconds": time.perf_counter() - t0}


def logprobs(policy, params: dict) -> dict:
    raw = objects(params, "items", "logprobs", min_items=1)
    seqs = _target_seqs(policy, raw, "logprobs.items", with_eos=False)
    out = []
    with torch.no_grad(), policy.parallel.full_params():
        for i in range(0, len(seqs), LOGPROB_BATCH):
            chunk = seqs[i:i + LOGPROB_BATCH]
            with oom_context("logprobs", len(chunk)):
                for lp in token_logprobs(policy, policy.model, chunk):
                    values = lp.float().cpu().tolist()
                    out.append({"total": float(sum(values)), "tokens": values})
    return {"items": out}

"""Per-token log-probabilities of a batch of sequences (left-padded, images attached)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Seq:
    ids: torch.Tensor  # 1-D int64, prompt and continuation
    start: int  # index of the first scored token
    pixel_values: torch.Tensor | None
    grid_thw: torch.Tensor | None


def left_pad(rows: list[torch.Tensor], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = r
        mask[i, width - len(r):] = 1
    return ids.to(device), mask.to(device)


def vision_inputs(seqs: list[Seq], device: torch.device, dtype: torch.dtype) -> dict:
    pv = [s.pixel_values for s in seqs if s.pixel_values is not None]
    if not pv:
        return {}
    return {
        "pixel_values": torch.cat(pv).to(device=device, dtype=dtype),
        "image_grid_thw": torch.cat([s.grid_thw for s in seqs if s.grid_thw is not None]).to(device),
    }


def token_logprobs(policy, module, seqs: list[Seq]) -> list[torch.Tensor]:
    """log p(ids[t] | ids[:t]) for t in [start, len) of every sequence, at temperature 1.

    Only the logits of the scored tail are materialised (`logits_to_keep`), which
    matters for real vocabularies (150k entries).
    """
    device = policy.device
    ids, mask = left_pad([s.ids for s in seqs], policy.pad_id, device)
    width = ids.shape[1]
    keep = max(len(s.ids) - s.start for s in seqs) + 1
    kwargs = vision_inputs(seqs, device, policy.vision_dtype)
    if policy.accepts_logits_to_keep:
        kwargs["logits_to_keep"] = keep
    with policy.compute():
        out = module(input_ids=ids, attention_mask=mask, use_cache=False, **kwargs)
    logits = out.logits[:, -keep:-1, :].float()
    targets = ids[:, width - keep + 1:]
    picked = torch.gather(logits, 2, targets.unsqueeze(-1)).squeeze(-1)
    lp = picked - torch.logsumexp(logits, dim=-1)
    return [lp[i, keep - 1 - (len(s.ids) - s.start):] for i, s in enumerate(seqs)]

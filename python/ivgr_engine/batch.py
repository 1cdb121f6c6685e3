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


def vision_inputs(policy, seqs: list[Seq], ids: torch.Tensor) -> dict:
    """pixel_values and image_grid_thw of the batch, in row order, and the token modality map."""
    pv = [s.pixel_values for s in seqs if s.pixel_values is not None]
    if not pv:
        return {}
    out = {
        "pixel_values": torch.cat(pv).to(device=policy.device, dtype=policy.vision_dtype),
        "image_grid_thw": torch.cat([s.grid_thw for s in seqs if s.grid_thw is not None]).to(policy.device),
    }
    if policy.mm_token_types:
        types = torch.zeros_like(ids, dtype=torch.int32)
        types[ids == policy.image_token_id] = 1
        if policy.video_token_id is not None:
            types[ids == policy.video_token_id] = 2
        out["mm_token_type_ids"] = types
    return out


def token_logprobs(policy, module, seqs: list[Seq]) -> list[torch.Tensor]:
    """log p(ids[t] | ids[:t]) for t in [start, len) of every sequence, at temperature 1.

    Only the logits of the scored tail are materialised (`logits_to_keep`), which
    matters for real vocabularies (150k entries).
    """
    device = policy.device
    ids, mask = left_pad([s.ids for s in seqs], policy.pad_id, device)
    width = ids.shape[1]
    keep = max(len(s.ids) - s.start for s in seqs) + 1
    kwargs = vision_inputs(policy, seqs, ids)
    if policy.accepts_logits_to_keep:
        kwargs["logits_to_keep"] = keep
    with policy.compute():
        out = module(input_ids=ids, attention_mask=mask, use_cache=False, **kwargs)
    logits = out.logits[:, -keep:-1, :].float()
    targets = ids[:, width - keep + 1:]
    picked = torch.gather(logits, 2, targets.unsqueeze(-1)).squeeze(-1)
    lp = picked - torch.logsumexp(logits, dim=-1)
    return [lp[i, keep - 1 - (len(s.ids) - s.start):] for i, s in enumerate(seqs)]

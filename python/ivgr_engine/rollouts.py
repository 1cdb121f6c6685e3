"""Rollouts kept between `generate` and `update`: token ids, the loss mask and old log-probs."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch

from .errors import UNKNOWN_ROLLOUT, EngineError

# Evaluation rollouts (keep=false) stay only for a later `continue`; the oldest go first.
MAX_CONTEXT_ONLY = 4096


@dataclass
class Rollout:
    prompt_id: str
    ids: torch.Tensor  # prompt + everything after it, 1-D int64 on CPU
    start: int  # first token the model generated
    gen_mask: torch.Tensor  # over ids[start:], True where the model wrote the token (tool turns are False)
    pixel_values: torch.Tensor | None
    grid_thw: torch.Tensor | None
    ended: bool  # the last segment ended with an end-of-turn token
    old_logprobs: torch.Tensor | None = None  # over ids[start:]; None for evaluation rollouts

    @property
    def kept(self) -> bool:
        return self.old_logprobs is not None


class RolloutStore:
    def __init__(self) -> None:
        self._items: OrderedDict[str, Rollout] = OrderedDict()

    def put(self, rid: str, rollout: Rollout) -> None:
        self._items[rid] = rollout
        self._items.move_to_end(rid)
        context_only = [k for k, r in self._items.items() if not r.kept]
        for k in context_only[: max(0, len(context_only) - MAX_CONTEXT_ONLY)]:
            del self._items[k]

    def has(self, rid: str) -> bool:
        return rid in self._items

    def get(self, rid: str, where: str) -> Rollout:
        r = self._items.get(rid)
        if r is None:
            raise EngineError(UNKNOWN_ROLLOUT, f"{where}: unknown rollout id {rid!r} (already used by an update, released, or never generated)")
        return r

    def drop(self, ids: list[str]) -> int:
        n = 0
        for rid in ids:
            if self._items.pop(rid, None) is not None:
                n += 1
        return n

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

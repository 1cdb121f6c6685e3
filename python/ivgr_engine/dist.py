"""Process-group helpers. One process is a world of size 1 and every helper is a no-op there.

Under `torchrun`, rank 0 speaks the protocol and broadcasts each request; every rank
runs it on its own shard and the results meet on rank 0.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as td


def init() -> None:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not td.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        td.init_process_group(backend=backend)


def world() -> int:
    return td.get_world_size() if td.is_initialized() else 1


def rank() -> int:
    return td.get_rank() if td.is_initialized() else 0


def is_main() -> bool:
    return rank() == 0


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def local_world() -> int:
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def broadcast(obj: object) -> object:
    """Rank 0's object on every rank."""
    if world() == 1:
        return obj
    box = [obj]
    td.broadcast_object_list(box, src=0)
    return box[0]


def gather(obj: object) -> list:
    """Every rank's object, in rank order, on every rank."""
    if world() == 1:
        return [obj]
    out: list = [None] * world()
    td.all_gather_object(out, obj)
    return out


def sum_float(value: float, device: torch.device) -> float:
    if world() == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    td.all_reduce(t)
    return float(t.item())


def max_int(value: int, device: torch.device) -> int:
    if world() == 1:
        return value
    t = torch.tensor([value], dtype=torch.int64, device=device)
    td.all_reduce(t, op=td.ReduceOp.MAX)
    return int(t.item())


def shard(n: int) -> range:
    """The indices of `n` items this rank handles (round-robin)."""
    return range(rank(), n, world())


def shutdown() -> None:
    if td.is_initialized():
        td.destroy_process_group()

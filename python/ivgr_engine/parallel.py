"""Data parallelism across torchrun ranks: DDP (every rank holds the whole model) or FSDP
(`fully_shard`: parameters, gradients and optimizer state sharded; for models whose training
state does not fit on one device).

Sampling runs on each rank's own rows, so ranks make different numbers of forward calls. Under
FSDP that must not all-gather per layer: `full_params()` gathers every layer once (a collective
all ranks enter together), sampling then runs without collectives, and the layers are sharded
again on exit.
"""

from __future__ import annotations

import contextlib

import torch

from . import dist

# Modules that become one FSDP unit each: the language model's decoder layers and the vision blocks.
UNIT_SUFFIXES = ("DecoderLayer", "VisionBlock")


def _fsdp_api():
    try:
        from torch.distributed.fsdp import FSDPModule, fully_shard
    except ImportError:  # torch < 2.6
        from torch.distributed._composable.fsdp import FSDPModule, fully_shard
    return FSDPModule, fully_shard


class Parallel:
    def __init__(self, model: torch.nn.Module, mode: str, device: torch.device):
        self.mode = mode if dist.world() > 1 else "none"
        self.model = model
        self.ddp = None
        self._units: list = []
        if self.mode == "ddp":
            from torch.nn.parallel import DistributedDataParallel

            ids = [device.index] if device.type == "cuda" else None
            # Unused parameters are normal here (e.g. the vision tower on a text-only micro-batch).
            self.ddp = DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)
        elif self.mode == "fsdp":
            from torch.distributed.device_mesh import init_device_mesh

            FSDPModule, fully_shard = _fsdp_api()
            mesh = init_device_mesh(device.type, (dist.world(),))
            for module in list(model.modules()):
                if type(module).__name__.endswith(UNIT_SUFFIXES):
                    fully_shard(module, mesh=mesh)
            fully_shard(model, mesh=mesh)
            self._units = [m for m in model.modules() if isinstance(m, FSDPModule)]

    def initialise(self, token_id: int, device: torch.device) -> None:
        """FSDP sets itself up on the first forward through the root module; gathering single
        layers (full_params) before that is an error, so run one tiny text-only pass now."""
        if self.sharded:
            ids = torch.full((1, 2), token_id, dtype=torch.long, device=device)
            with torch.no_grad():
                self.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False)
            # The root keeps its parameters gathered after a forward; shard them now so the
            # parameters registered on the modules are the sharded ones the optimizer will hold.
            for unit in self._units:
                unit.reshard()

    @property
    def sharded(self) -> bool:
        return self.mode == "fsdp"

    def train_module(self) -> torch.nn.Module:
        return self.ddp if self.ddp is not None else self.model

    @contextlib.contextmanager
    def accumulate(self, last: bool):
        """Gradient accumulation: synchronise gradients only on the last micro-batch."""
        if self.mode == "ddp" and not last:
            with self.ddp.no_sync():
                yield
        elif self.mode == "fsdp":
            self.model.set_requires_gradient_sync(last)
            yield
        else:
            yield

    @contextlib.contextmanager
    def full_params(self):
        """Whole parameters on every rank for collective-free forward passes (no-op unless FSDP)."""
        if not self.sharded:
            yield
            return
        for unit in self._units:
            unit.unshard()
            unit.set_reshard_after_forward(False)
        try:
            yield
        finally:
            for unit in self._units:
                unit.reshard()
                unit.set_reshard_after_forward(True)


def full_tensor(t: torch.Tensor) -> torch.Tensor:
    """A DTensor shard gathered into the whole tensor (a collective); plain tensors unchanged."""
    return t.full_tensor() if hasattr(t, "full_tensor") else t

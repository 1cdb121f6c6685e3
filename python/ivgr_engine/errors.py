"""Errors that go back to the client as JSON-RPC errors with a message a user can act on."""

from __future__ import annotations

import contextlib

# JSON-RPC 2.0 reserved codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# LSP's code for a cancelled request; vscode-jsonrpc maps it to a cancellation.
REQUEST_CANCELLED = -32800
# Engine codes.
NOT_LOADED = -32001
MODEL_NOT_FOUND = -32002
OUT_OF_MEMORY = -32003
BAD_IMAGE = -32004
UNKNOWN_ROLLOUT = -32005
CHECKPOINT_ERROR = -32006


class EngineError(Exception):
    def __init__(self, code: int, message: str, data: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict:
        err = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


def invalid(message: str) -> EngineError:
    return EngineError(INVALID_PARAMS, message)


class Cancelled(EngineError):
    def __init__(self, method: str):
        super().__init__(REQUEST_CANCELLED, f"{method} was cancelled by the client")


@contextlib.contextmanager
def oom_context(method: str, batch: int):
    """Turns an out-of-memory error into one that names the batch size that caused it."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError as e:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise EngineError(
            OUT_OF_MEMORY,
            f"{method}: out of memory with a batch of {batch} sequence(s); lower microBatch or the number "
            f"of samples and retry ({str(e).splitlines()[0] if str(e) else 'no detail'})",
            {"batch": batch},
        ) from None

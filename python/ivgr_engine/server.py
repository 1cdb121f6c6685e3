"""The JSON-RPC 2.0 server on stdio.

stdout carries protocol only: the real stdout file descriptor is kept for the
protocol and fd 1 is pointed at stderr, so prints from any library (Python or C)
land in the log. A reader thread takes messages off stdin so that
`$/cancelRequest` reaches a running request; requests run one at a time.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
import traceback

from . import dist
from .errors import (
    INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, NOT_LOADED, OUT_OF_MEMORY, PARSE_ERROR,
    Cancelled, EngineError,
)
from .framing import FramingError, PayloadError, encode_message, read_message
from .params import strings

# Version of this JSON-RPC protocol, reported by `load`; the client refuses another. Equal to
# ENGINE_PROTOCOL_VERSION in src/core/protocol/version.ts; bumped together on incompatible change.
ENGINE_PROTOCOL = 1

# Below this many parameters, one CPU thread is as fast as several (measured: docs/BENCHMARKS.md).
SMALL_MODEL = 50_000_000


class Engine:
    """The operations, independent of transport (the benchmark calls them in-process)."""

    def __init__(self) -> None:
        from .rollouts import RolloutStore

        self.policy = None
        self.store = RolloutStore()
        self.counter = 0
        # Set by the reader thread on $/cancelRequest for the running call.
        self.cancel = threading.Event()

    def _loaded(self, method: str):
        if self.policy is None:
            raise EngineError(NOT_LOADED, f"{method}: no model is loaded; call load first")
        return self.policy

    def call(self, method: str, params: dict) -> object:
        handler = getattr(self, "op_" + method, None) if method.isidentifier() else None
        if handler is None:
            raise EngineError(METHOD_NOT_FOUND, f"unknown method {method!r}")
        return handler(params)

    def op_load(self, params: dict) -> dict:
        from .model import Policy, parse_load

        opts = parse_load(params)
        self.policy = None
        self.store.clear()
        self.policy = Policy(opts)
        _tune_threads(self.policy)
        return {**self.policy.info(), "protocol": ENGINE_PROTOCOL}

    def op_generate(self, params: dict) -> dict:
        from .generation import generate

        self.counter += 1
        return generate(self._loaded("generate"), self.store, params, self.counter, self.cancel)

    def op_continue(self, params: dict) -> dict:
        from .generation import continue_rollout

        return continue_rollout(self._loaded("continue"), self.store, params, self.cancel)

    def op_update(self, params: dict) -> dict:
        from .training import update

        return update(self._loaded("update"), self.store, params, self.cancel)

    def op_sft_step(self, params: dict) -> dict:
        from .training import sft_step

        return sft_step(self._loaded("sft_step"), params, self.cancel)

    def op_logprobs(self, params: dict) -> dict:
        from .training import logprobs

        return logprobs(self._loaded("logprobs"), params)

    def op_save(self, params: dict) -> dict:
        from .checkpoint import save

        return save(self._loaded("save"), params)

    def op_restore(self, params: dict) -> dict:
        from .checkpoint import restore

        return restore(self._loaded("restore"), self.store, params)

    def op_export_onnx(self, params: dict) -> dict:
        from .onnx_export import export_onnx

        return export_onnx(self._loaded("export_onnx"), params)

    def op_release(self, params: dict) -> dict:
        return {"released": self.store.drop(strings(params, "rolloutIds", "release"))}

    def op_digest(self, params: dict) -> dict:
        """SHA-256 of every rank's trainable weights: replicas in sync have equal digests (under FSDP,
        of the weights gathered from the shards)."""
        import hashlib

        from .checkpoint import full_state

        policy = self._loaded("digest")
        state = full_state(policy, every_rank=True)
        h = hashlib.sha256()
        for name, p in policy.model.named_parameters():
            if p.requires_grad:
                h.update(state[name].float().numpy().tobytes())
        return {"step": policy.step, "ranks": dist.gather(h.hexdigest())}

    def op_shutdown(self, params: dict) -> dict:
        return {}


def _tune_threads(policy) -> None:
    """On CPU, a small model gains little from intra-op threads and loses a lot when the cores are
    busy with other work (threads spin-wait on each other): on two cores it runs on one thread,
    on more at most four, unless IVGR_THREADS says otherwise."""
    import torch

    cpus = os.cpu_count() or 1
    if policy.device.type == "cpu" and not os.environ.get("IVGR_THREADS") and policy.parameters() < SMALL_MODEL:
        torch.set_num_threads(1 if cpus <= 2 else min(4, cpus // 2))
    print(f"engine: {torch.get_num_threads()} compute thread(s)", file=sys.stderr)


def error_for(method: str, exc: BaseException) -> dict:
    import torch

    if isinstance(exc, EngineError):
        return exc.to_json()
    if isinstance(exc, torch.OutOfMemoryError):
        return {"code": OUT_OF_MEMORY, "message": f"{method}: out of memory; lower the batch size or the number of samples"}
    traceback.print_exc(file=sys.stderr)
    return {"code": INTERNAL_ERROR, "message": f"{method} failed: {type(exc).__name__}: {exc}"}


class Server:
    def __init__(self, proto_in, proto_out) -> None:
        self.inp = proto_in
        self.out = proto_out
        self.write_lock = threading.Lock()
        self.inbox: queue.Queue = queue.Queue()
        self.current: object = None
        self.cancelled: set = set()
        self.engine = Engine()

    def send(self, msg: dict) -> None:
        data = encode_message(msg)
        with self.write_lock:
            self.out.write(data)
            self.out.flush()

    def reply_error(self, rid: object, code: int, message: str) -> None:
        self.send({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}})

    def read_loop(self) -> None:
        while True:
            try:
                msg = read_message(self.inp)
            except PayloadError as e:
                self.reply_error(None, PARSE_ERROR, str(e))
                continue
            except FramingError as e:
                print(f"engine: protocol stream is broken ({e}); shutting down", file=sys.stderr)
                self.inbox.put(None)  # end of input
                return
            if msg is None:
                self.inbox.put(None)  # end of input
                return
            if isinstance(msg, dict) and msg.get("method") == "$/cancelRequest":
                target = (msg.get("params") or {}).get("id") if isinstance(msg.get("params"), dict) else None
                self.cancelled.add(target)
                if target == self.current:
                    self.engine.cancel.set()
                continue
            self.inbox.put(msg)

    def validate(self, msg: object) -> tuple[object, str, dict] | None:
        """(id, method, params) of a request, or None after answering an invalid one."""
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0" or not isinstance(msg.get("method"), str):
            rid = msg.get("id") if isinstance(msg, dict) else None
            self.reply_error(rid if isinstance(rid, (str, int)) else None, INVALID_REQUEST, "not a JSON-RPC 2.0 request: expected jsonrpc '2.0' and a string method")
            return None
        rid = msg.get("id")
        params = msg.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            if rid is not None:
                self.reply_error(rid, INVALID_PARAMS, f"{msg['method']}: params must be an object (named parameters)")
            return None
        return rid, msg["method"], params

    def run(self) -> int:
        reader = threading.Thread(target=self.read_loop, name="rpc-reader", daemon=True)
        reader.start()
        while True:
            msg = self.inbox.get()
            if msg is None:  # stdin closed: the client is gone
                dist.broadcast(None)
                return 0
            parsed = self.validate(msg)
            if parsed is None:
                continue
            rid, method, params = parsed
            if rid is None:
                continue  # notifications carry nothing the engine acts on
            if rid in self.cancelled:
                self.cancelled.discard(rid)
                self.reply_error(rid, Cancelled(method).code, Cancelled(method).message)
                continue
            # Only well-formed requests reach the other ranks, so every rank runs the same calls.
            dist.broadcast({"method": method, "params": params})
            self.current = rid
            self.engine.cancel.clear()
            t0 = time.perf_counter()
            try:
                result = self.engine.call(method, params)
                response = {"jsonrpc": "2.0", "id": rid, "result": result}
            except Exception as exc:  # every failure becomes a JSON-RPC error; the loop goes on
                response = {"jsonrpc": "2.0", "id": rid, "error": error_for(method, exc)}
            finally:
                self.current = None
                self.cancelled.discard(rid)
            print(f"engine: {method} {'ok' if 'result' in response else 'error'} in {time.perf_counter() - t0:.3f}s", file=sys.stderr)
            self.send(response)
            if method == "shutdown":
                return 0


class Follower:
    """A rank other than 0 under torchrun: runs what rank 0 broadcasts, answers nobody."""

    def __init__(self) -> None:
        self.engine = Engine()

    def run(self) -> int:
        while True:
            msg = dist.broadcast(None)
            if msg is None:
                return 0
            method, params = msg["method"], msg["params"]
            try:
                self.engine.call(method, params)
            except Exception as exc:
                print(f"engine[rank {dist.rank()}]: {method} failed: {exc}", file=sys.stderr)
            if method == "shutdown":
                return 0


def main() -> int:
    # Keep the real stdout for the protocol; everything else that writes to fd 1 goes to stderr.
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "warning")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    dist.init()
    threads = int(os.environ.get("IVGR_THREADS", "0")) or max(1, (os.cpu_count() or 1) // dist.local_world())
    torch.set_num_threads(threads)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    print(f"engine: ready (pid {os.getpid()}, rank {dist.rank()}/{dist.world()}, torch {torch.__version__}, engine protocol {ENGINE_PROTOCOL})", file=sys.stderr)
    try:
        code = Server(sys.stdin.buffer, proto_out).run() if dist.is_main() else Follower().run()
    finally:
        dist.shutdown()
    # The reader thread may still block on stdin; skip interpreter teardown rather than wait on it.
    sys.stderr.flush()
    os._exit(code)

"""The TrainerCallback that keeps the run folder true as TRL trains: run.json's status, pid and
step, the metrics line of each step, checkpoints the readers list, and pause / stop requests
(`<run>/trl/control`) honoured at a step boundary with a checkpoint. Only the main process
writes; the request is broadcast so every rank stops at the same step."""

from __future__ import annotations

import os
import time
from pathlib import Path

from transformers import TrainerCallback

from .recorder import Recorder
from .run_folder import RunFolder

ENDING = {"pause": "paused", "stop": "stopped"}


def _broadcast(value):
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return value
    from accelerate.utils import broadcast_object_list

    return broadcast_object_list([value])[0]


class RunFolderCallback(TrainerCallback):
    def __init__(self, folder: RunFolder, recorder: Recorder, main: bool, model_dir: Path | None, until: int | None = None):
        self.folder = folder
        self.recorder = recorder
        self.main = main
        self.model_dir = model_dir
        self.until = until
        self.control_file = folder.dir / "trl" / "control"
        self.request: str | None = None
        self.step_start = time.perf_counter()
        self.step_seconds = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        if self.main:
            self.folder.update(status="running", pid=int(os.environ.get("IVGR_WORKER_PID", os.getpid())), message=None)

    def on_step_begin(self, args, state, control, **kwargs):
        self.step_start = time.perf_counter()

    def _read_request(self, step: int) -> str | None:
        if self.control_file.is_file():
            text = self.control_file.read_text(encoding="utf-8").strip()
            self.control_file.unlink(missing_ok=True)
            if text in ENDING:
                return text
        if self.until is not None and step >= self.until:
            return "stop"
        return None

    def on_step_end(self, args, state, control, **kwargs):
        self.step_seconds = time.perf_counter() - self.step_start
        request = None
        if self.main:
            self.folder.update(step=state.global_step)
            request = self._read_request(state.global_step)
        request = _broadcast(request)
        if request is not None:
            self.request = request
            control.should_save = True
            control.should_training_stop = True
        # The last step always leaves a checkpoint, as runs of the ivgr trainer do.
        if state.global_step >= state.max_steps:
            control.should_save = True
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.main:
            self.recorder.metrics(state.global_step, logs or {}, self.step_seconds)

    def on_save(self, args, state, control, **kwargs):
        if self.main:
            step = state.global_step
            self.folder.mark_checkpoint(step, Path(args.output_dir) / f"checkpoint-{step}", self.model_dir)

    def on_train_end(self, args, state, control, **kwargs):
        if self.main:
            done = state.global_step >= state.max_steps and self.request != "pause"
            self.folder.update(status="finished" if done else ENDING.get(self.request or "stop"), pid=None, step=state.global_step)

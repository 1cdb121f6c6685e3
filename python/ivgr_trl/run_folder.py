"""The run folder contract of src/run, written from the main process: run.json (atomic
replace), events/rollouts.jsonl and events/metrics.jsonl (append-only JSON lines), and
checkpoints/<step> pointing at TRL's checkpoint-<step> with the worker-state.json the
readers list checkpoints by.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RunFolder:
    def __init__(self, run_dir: str | Path):
        self.dir = Path(run_dir)
        self.events = self.dir / "events"
        self.checkpoints = self.dir / "checkpoints"

    def run_json(self) -> dict:
        path = self.dir / "run.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SystemExit(f"{self.dir}: not a run directory (no run.json); create it with `ivgr train` or `ivgr trl`") from None
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path}: not valid JSON: {e}") from None

    def update(self, **patch) -> dict:
        run = {**self.run_json(), **patch, "updated": now_iso()}
        run = {k: v for k, v in run.items() if v is not None or k == "pid"}
        path = self.dir / "run.json"
        tmp = path.with_name(f"run.json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return run

    def append(self, file: str, records: list[dict]) -> None:
        if not records:
            return
        self.events.mkdir(parents=True, exist_ok=True)
        # One write per batch of lines: a reader never sees half a line of a finished batch.
        with open(self.events / f"{file}.jsonl", "a", encoding="utf-8") as f:
            f.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))

    def mark_checkpoint(self, step: int, trl_dir: Path, model_dir: Path | None) -> None:
        """Adds worker-state.json (written last, as the engine's checkpoints do) and checkpoints/<step>."""
        if model_dir is not None and (model_dir / "ivgr.json").is_file():
            shutil.copyfile(model_dir / "ivgr.json", trl_dir / "ivgr.json")
        state = {
            "version": 1, "step": step, "cursor": {"epoch": 0, "index": 0}, "rng": [], "configHash": "",
            "time": now_iso(), "phase": "rl", "trainer": "trl",
        }
        tmp = trl_dir / "worker-state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, trl_dir / "worker-state.json")
        link = self.checkpoints / str(step)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(trl_dir.name, target_is_directory=True)


def millis() -> int:
    return int(time.time() * 1000)

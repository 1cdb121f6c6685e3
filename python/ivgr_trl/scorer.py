"""The one definition of the rewards: `ivgr score --jsonl` (src/core through the CLI), kept running.

Requests go out on a writer thread while answers are read here, so neither side's pipe can fill
and block the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ScorerError(RuntimeError):
    pass


def default_command() -> list[str]:
    """`node <cli> score --jsonl`; $IVGR_CLI names the built CLI when it is not this project's dist/cli.js."""
    cli = os.environ.get("IVGR_CLI", str(ROOT / "dist" / "cli.js"))
    if not Path(cli).is_file():
        raise ScorerError(f"the ivgr CLI is not built ({cli} is missing): run `npm run build`, or set IVGR_CLI")
    return [os.environ.get("IVGR_NODE", "node"), cli, "score", "--jsonl"]


class Scorer:
    def __init__(self, command: list[str] | None = None):
        self.command = command or default_command()
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            try:
                self.proc = subprocess.Popen(
                    self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8", bufsize=1
                )
            except OSError as e:
                raise ScorerError(f"cannot start the scorer {' '.join(self.command)}: {e}") from None
        return self.proc

    def score(self, requests: list[dict]) -> list[dict]:
        """One answer per request, in order; a request the scorer rejects raises with its reason."""
        if not requests:
            return []
        proc = self._start()
        payload = "".join(json.dumps(r) + "\n" for r in requests)

        def write() -> None:
            try:
                proc.stdin.write(payload)
                proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        answers = []
        for i in range(len(requests)):
            line = proc.stdout.readline()
            if not line:
                raise ScorerError(f"the scorer {' '.join(self.command)} ended after {i} of {len(requests)} answers")
            answer = json.loads(line)
            if "error" in answer:
                raise ScorerError(f"scorer request {i + 1}: {answer['error']}")
            answers.append(answer)
        writer.join()
        return answers

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.proc = None

"""Turns a scored, advantaged generation batch into rollout records, and a step's logs into its
metrics record, in the shapes src/core/types.ts defines (RolloutRecord, MetricsRecord)."""

from __future__ import annotations

from .rewards import Scored
from .run_folder import RunFolder, millis


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


class Recorder:
    def __init__(self, folder: RunFolder, max_tokens: int):
        self.folder = folder
        self.max_tokens = max_tokens
        self.pending: dict[int, dict] = {}

    def rollouts(self, step: int, scored: list[Scored], advantages: list[float], prompt_tokens: list[int], completion_tokens: list[int], generate_s: float) -> list[dict]:
        time = millis()
        # A sample's index within its (question, stream) group names it, as the engine's rollout ids do.
        samples: list[int] = []
        seen: dict[tuple[str, str], int] = {}
        for s in scored:
            samples.append(seen.get((s.question, s.stream), 0))
            seen[(s.question, s.stream)] = samples[-1] + 1
        ids = [f"trl-{step}-{s.question}-{s.stream[0]}{k}" for s, k in zip(scored, samples)]
        grounded_ids = {}
        for i, s in enumerate(scored):
            if s.stream == "grounded":
                grounded_ids.setdefault(s.question, []).append(ids[i])
        records = []
        for i, (s, k) in enumerate(zip(scored, samples)):
            a = s.answer
            rec = {
                "v": 1, "id": ids[i], "step": step, "stream": s.stream, "promptId": s.question, "sample": k,
                "input": s.input, "output": s.text, "score": a["total"], "image": s.record["image"],
                "answer": a["answer"], "correct": a["correct"], "boxes": a["boxes"], "rewards": a["terms"],
                "advantage": float(advantages[i]),
                "tokens": {"prompt": int(prompt_tokens[i]), "completion": int(completion_tokens[i])},
                "finish": "length" if int(completion_tokens[i]) >= self.max_tokens else "stop",
                "time": time,
            }
            if s.stream == "textual":
                rec["references"] = [grounded_ids[s.question][j] for j in a.get("references", [])]
            records.append(rec)
        self.folder.append("rollouts", records)
        self.pending[step] = {
            "records": records,
            "generate": generate_s,
            "highQuality": sum(1 for s in scored if s.stream == "grounded" and s.answer.get("highQuality")),
        }
        return records

    def metrics(self, step: int, logs: dict, step_s: float) -> dict | None:
        """The step's metrics line, once its rollouts and its logs are both in."""
        pending = self.pending.pop(step, None)
        if pending is None:
            return None
        rs = pending["records"]
        reward, terms, accuracy, length = {}, {}, {}, {}
        for stream in ("grounded", "textual"):
            mine = [r for r in rs if r["stream"] == stream]
            if not mine:
                continue
            reward[stream] = _mean([r["score"] for r in mine])
            accuracy[stream] = _mean([1.0 if r["correct"] else 0.0 for r in mine])
            length[stream] = _mean([r["tokens"]["completion"] for r in mine])
            names = sorted({t for r in mine for t in r["rewards"]})
            terms[stream] = {t: _mean([r["rewards"][t]["value"] for r in mine if t in r["rewards"]]) for t in names}
        gen = pending["generate"]
        completion = sum(r["tokens"]["completion"] for r in rs)
        record = {
            "v": 1, "step": step, "time": millis(), "reward": reward, "terms": terms, "accuracy": accuracy,
            "kl": float(logs.get("kl", 0.0)),
            "clipFraction": float(logs.get("clip_ratio/region_mean", 0.0)),
            "loss": float(logs.get("loss", 0.0)),
            "gradNorm": float(logs.get("grad_norm", 0.0)),
            "responseLength": length,
            "tokensPerSecond": completion / gen if gen > 0 else 0.0,
            "phases": {"generate": gen, "update": max(0.0, step_s - gen)},
            "highQualityGrounded": pending["highQuality"],
        }
        self.folder.append("metrics", [record])
        return record

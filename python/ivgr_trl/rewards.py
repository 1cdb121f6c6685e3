"""TRL reward functions for the five iVGR terms, all answered by one scoring of the whole step.

TRL calls each reward function with the same local batch; the first call of a batch gathers the
batch of every process (a question's grounded and textual groups may sit on different ranks),
scores each question's two groups together so the textual consistency term sees that step's
grounded completions, and keeps the result for the other four calls. A term that does not apply
to a stream is None, which TRL leaves out of the weighted sum: the total is iVGR's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .scorer import Scorer

TERMS = ("accuracy", "format", "grounding", "tool", "consistency")
REWARD_KEYS = TERMS + ("highQualityMinIoU", "consistencyAlpha")
DEFAULT_WEIGHTS = {"accuracy": 1.0, "format": 0.5, "grounding": 0.5, "tool": 0.0, "consistency": 0.5}


@dataclass
class Scored:
    question: str
    stream: str
    text: str
    record: dict
    input: str
    answer: dict


def completion_text(completion) -> str:
    """A conversational completion's assistant text, or a plain completion as is."""
    if isinstance(completion, str):
        return completion
    parts = []
    for message in completion:
        content = message.get("content", "")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(c.get("text", "") for c in content if isinstance(c, dict))
    return "".join(parts)


def _gather(items: list) -> list:
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return items
    from accelerate.utils import gather_object

    return gather_object(items)


def _rank_slice(n_local: int) -> slice:
    import torch.distributed as dist

    rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
    return slice(rank * n_local, (rank + 1) * n_local)


class IvgrRewards:
    def __init__(self, rewards: dict | None, convention: str, scorer: Scorer | None = None):
        self.rewards = {k: v for k, v in (rewards or {}).items() if k in REWARD_KEYS}
        self.convention = convention
        self.scorer = scorer or Scorer()
        self._key = None
        self.last: list[Scored] = []

    def weights(self) -> list[float]:
        return [float(self.rewards.get(t, DEFAULT_WEIGHTS[t])) for t in TERMS]

    def functions(self) -> list:
        def make(term: str):
            def reward(prompts, completions, question, stream, record, input, **_kwargs):
                local = self.score_local(completions, question, stream, record, input)
                return [s.answer["terms"][term]["value"] if term in s.answer["applies"] else None for s in local]

            reward.__name__ = f"{term}_reward"
            return reward

        return [make(t) for t in TERMS]

    def score_local(self, completions, question, stream, record, input) -> list[Scored]:
        texts = [completion_text(c) for c in completions]
        key = (tuple(texts), tuple(question), tuple(stream))
        if key != self._key:
            rows = _gather(list(zip(question, stream, texts, record, input)))
            self.last = self.score_rows(rows)
            self._key = key
        return self.last[_rank_slice(len(texts))]

    def score_rows(self, rows: list[tuple[str, str, str, str, str]]) -> list[Scored]:
        """Scores (question, stream, text, record JSON, prompt input) rows; a question's rows form its two groups."""
        order: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            q = row[0]
            order.setdefault(q, []).append(i)
        requests, members = [], []
        for q, idx in order.items():
            grounded = [i for i in idx if rows[i][1] == "grounded"]
            textual = [i for i in idx if rows[i][1] == "textual"]
            unknown = [rows[i][1] for i in idx if rows[i][1] not in ("grounded", "textual")]
            if unknown:
                raise ValueError(f"question {q}: stream {unknown[0]!r} is neither grounded nor textual")
            requests.append({
                "record": json.loads(rows[idx[0]][3]),
                "convention": self.convention,
                "rewards": self.rewards,
                "grounded": [rows[i][2] for i in grounded],
                "textual": [rows[i][2] for i in textual],
            })
            members.append((grounded, textual))
        out: list[Scored | None] = [None] * len(rows)
        for answer, (grounded, textual) in zip(self.scorer.score(requests), members):
            for stream, idx in (("grounded", grounded), ("textual", textual)):
                for i, a in zip(idx, answer[stream]):
                    q, s, t, r, p = rows[i]
                    out[i] = Scored(q, s, t, json.loads(r), p, a)
        return out  # type: ignore[return-value]

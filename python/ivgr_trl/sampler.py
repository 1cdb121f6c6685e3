"""A question-keeping RepeatSampler: a question's stream prompts land in the same generation batch.

It yields TRL's RepeatSampler layout (each prompt `mini_repeat_count` times in a row, each
batch of prompts `repeat_count` times), but shuffles and cuts batches by question, so the
consistency term of the textual stream finds that step's grounded completions of its question.
With a stratum per question (the run's `batchOrder: answer-balanced`), each answer's questions
are spread evenly through the order, as the engine trainer does (src/core/answer-strata.ts).
"""

from __future__ import annotations

import torch
from torch.utils.data import Sampler


class QuestionSampler(Sampler):
    def __init__(
        self,
        questions: list[str],
        prompts_per_batch: int,
        mini_repeat_count: int,
        repeat_count: int = 1,
        shuffle: bool = True,
        seed: int = 0,
        strata: list[str | None] | None = None,
    ):
        self.rows: list[list[int]] = []
        self.strata: list[str] | None = [] if strata is not None and all(s is not None for s in strata) else None
        index: dict[str, int] = {}
        for i, q in enumerate(questions):
            if q not in index:
                index[q] = len(self.rows)
                self.rows.append([])
                if self.strata is not None:
                    self.strata.append(strata[i])
            self.rows[index[q]].append(i)
        per_question = {len(r) for r in self.rows}
        if len(per_question) != 1:
            raise ValueError(f"every question needs the same number of stream prompts, got {sorted(per_question)}")
        self.streams = per_question.pop()
        if prompts_per_batch % self.streams:
            raise ValueError(f"{prompts_per_batch} prompts per batch do not hold whole questions of {self.streams} stream prompts")
        self.questions_per_batch = prompts_per_batch // self.streams
        if self.questions_per_batch > len(self.rows):
            raise ValueError(f"a batch needs {self.questions_per_batch} questions but the dataset has {len(self.rows)}")
        self.mini = mini_repeat_count
        self.repeat = repeat_count
        self.shuffle = shuffle
        self.generator = torch.Generator()
        self.generator.manual_seed(seed)

    def _order(self) -> list[int]:
        if not self.shuffle:
            return list(range(len(self.rows)))
        if self.strata is None:
            return torch.randperm(len(self.rows), generator=self.generator).tolist()
        groups: dict[str, list[int]] = {}
        for q, key in enumerate(self.strata):
            groups.setdefault(key, []).append(q)
        placed: list[tuple[float, int]] = []
        for key in sorted(groups):
            group = groups[key]
            perm = torch.randperm(len(group), generator=self.generator).tolist()
            jitter = torch.rand(len(group), generator=self.generator).tolist()
            placed += [((k + jitter[k]) / len(group), group[perm[k]]) for k in range(len(group))]
        return [q for _, q in sorted(placed)]

    def __iter__(self):
        order = self._order()
        q = self.questions_per_batch
        for start in range(0, len(order) - q + 1, q):
            prompts = [i for k in order[start:start + q] for i in self.rows[k]]
            for _ in range(self.repeat):
                for i in prompts:
                    yield from [i] * self.mini

    def __len__(self) -> int:
        batches = len(self.rows) // self.questions_per_batch
        return batches * self.questions_per_batch * self.streams * self.mini * self.repeat

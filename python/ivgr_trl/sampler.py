"""A question-keeping RepeatSampler: a question's stream prompts land in the same generation batch.

It yields TRL's RepeatSampler layout (each prompt `mini_repeat_count` times in a row, each
batch of prompts `repeat_count` times), but shuffles and cuts batches by question, so the
consistency term of the textual stream finds that step's grounded completions of its question.
"""

from __future__ import annotations

import torch
from torch.utils.data import Sampler


class QuestionSampler(Sampler):
    def __init__(self, questions: list[str], prompts_per_batch: int, mini_repeat_count: int, repeat_count: int = 1, shuffle: bool = True, seed: int = 0):
        self.rows: list[list[int]] = []
        index: dict[str, int] = {}
        for i, q in enumerate(questions):
            if q not in index:
                index[q] = len(self.rows)
                self.rows.append([])
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

    def __iter__(self):
        order = torch.randperm(len(self.rows), generator=self.generator).tolist() if self.shuffle else list(range(len(self.rows)))
        q = self.questions_per_batch
        for start in range(0, len(order) - q + 1, q):
            prompts = [i for k in order[start:start + q] for i in self.rows[k]]
            for _ in range(self.repeat):
                for i in prompts:
                    yield from [i] * self.mini

    def __len__(self) -> int:
        batches = len(self.rows) // self.questions_per_batch
        return batches * self.questions_per_batch * self.streams * self.mini * self.repeat

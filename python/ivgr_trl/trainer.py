"""GRPOTrainer with the iVGR pieces: the question-keeping sampler and, after each generation
batch is scored, its rollout records (with TRL's own advantages) in the run folder."""

from __future__ import annotations

import time

from trl import GRPOTrainer

from .recorder import Recorder
from .rewards import IvgrRewards
from .sampler import QuestionSampler


class IvgrGRPOTrainer(GRPOTrainer):
    def __init__(self, *args, ivgr: IvgrRewards, recorder: Recorder | None, questions: list[str], strata: list[str | None], **kwargs):
        self.ivgr = ivgr
        self.recorder = recorder
        self.questions = questions
        self.strata = strata
        super().__init__(*args, **kwargs)

    def _get_train_sampler(self, dataset=None):
        return QuestionSampler(
            self.questions,
            prompts_per_batch=self.args.generation_batch_size // self.num_generations,
            mini_repeat_count=self.num_generations,
            repeat_count=self.num_iterations * self.args.steps_per_generation,
            shuffle=self.shuffle_dataset,
            seed=self.args.seed,
            strata=self.strata,
        )

    def _generate_and_score_completions(self, inputs):
        start = time.perf_counter()
        out = super()._generate_and_score_completions(inputs)
        seconds = time.perf_counter() - start
        if not self.model.training:
            return out
        # Collective calls: every rank takes part, the main process writes.
        advantages = self.accelerator.gather(out["advantages"].contiguous()).tolist()
        prompt_tokens = self.accelerator.gather(out["prompt_mask"].sum(1)).tolist()
        completion_tokens = self.accelerator.gather(out["completion_mask"].sum(1)).tolist()
        if self.recorder is not None and self.accelerator.is_main_process:
            self.recorder.rollouts(self.state.global_step + 1, self.ivgr.last, advantages, prompt_tokens, completion_tokens, seconds)
        return out

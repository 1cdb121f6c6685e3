"""The TRL recipe's sampler: a question's stream prompts stay in one batch, and with strata
each answer is spread through the order, so every stretch of batches holds the split's mix."""

from __future__ import annotations

from ivgr_trl.sampler import QuestionSampler


def rows(answers: list[str]) -> tuple[list[str], list[str]]:
    """Two stream rows per question, as src/trl/trl-rows.ts writes them."""
    questions = [f"q{i}" for i in range(len(answers)) for _ in range(2)]
    strata = [a for a in answers for _ in range(2)]
    return questions, strata


def batches(sampler: QuestionSampler, questions: list[str], per_batch: int) -> list[list[str]]:
    order = [questions[i] for i in sampler][:: sampler.mini]
    prompts = [q for k, q in enumerate(order) if k % 2 == 0]
    return [prompts[i : i + per_batch] for i in range(0, len(prompts), per_batch)]


def test_answer_balanced_batches_hold_each_answer_near_its_share():
    answers = ["right" if i % 4 == 0 else "left" for i in range(64)]
    questions, strata = rows(answers)
    answer_of = {f"q{i}": a for i, a in enumerate(answers)}
    for seed in range(20):
        sampler = QuestionSampler(questions, prompts_per_batch=8, mini_repeat_count=2, seed=seed, strata=strata)
        got = batches(sampler, questions, 4)
        assert sorted(q for b in got for q in b) == sorted(set(questions)), "an epoch visits each question once"
        for b in got:
            right = sum(answer_of[q] == "right" for q in b)
            assert right <= 2, f"seed {seed}: batch {b} holds {right} 'right' of a quarter share"
        for start in range(0, len(got), 2):
            right = sum(answer_of[q] == "right" for b in got[start : start + 2] for q in b)
            assert 1 <= right <= 3, f"seed {seed}: eight questions hold {right} 'right'"


def test_stream_prompts_of_a_question_stay_together_with_or_without_strata():
    answers = ["a", "b", "c"] * 4
    questions, strata = rows(answers)
    for given in (None, strata):
        sampler = QuestionSampler(questions, prompts_per_batch=6, mini_repeat_count=3, seed=1, strata=given)
        order = [questions[i] for i in sampler]
        for k in range(0, len(order), 6):
            assert len(set(order[k : k + 6])) == 1, "a question's two stream prompts, each repeated, are adjacent"


def test_missing_strata_fall_back_to_a_plain_shuffle():
    answers = ["left"] * 8
    questions, strata = rows(answers)
    plain = list(QuestionSampler(questions, prompts_per_batch=4, mini_repeat_count=1, seed=3))
    unset = list(QuestionSampler(questions, prompts_per_batch=4, mini_repeat_count=1, seed=3, strata=[None] * len(questions)))
    assert plain == unset

"""The TRL reward functions give exactly what `ivgr score` gives, on a generated corpus of
traces in every coordinate convention: well-formed, malformed, with and without evidence,
zooms, repeated boxes and region phrases. The TRL side scores each question's two groups the
way a training step does; the reference scores every trace on its own through the CLI."""

from __future__ import annotations

import json
import math
import random
import subprocess
from pathlib import Path

import pytest

from ivgr_trl.rewards import TERMS, IvgrRewards
from ivgr_trl.scorer import ROOT, Scorer, default_command

CONVENTIONS = ("qwen25-abs", "qwen2-1000", "relative", "pixels")
QUESTIONS_PER_CONVENTION = 70
GROUP = 4
PHRASES = ("the top left", "near the top-right corner", "the center", "the bottom", "in the left middle", "upper right", "the sign", "along the top edge")
REWARDS = {"accuracy": 1.0, "format": 0.5, "grounding": 0.7, "tool": 0.3, "consistency": 0.5, "highQualityMinIoU": 0.4, "consistencyAlpha": 0.6}

pytestmark = pytest.mark.skipif(not (ROOT / "dist" / "cli.js").is_file(), reason="needs the built CLI (npm run build)")


def box_in(convention: str, box: list[float], w: int, h: int, rng: random.Random) -> str:
    x1, y1, x2, y2 = box
    if convention == "qwen2-1000":
        v = [round(x1 / w * 1000), round(y1 / h * 1000), round(x2 / w * 1000), round(y2 / h * 1000)]
    elif convention == "relative":
        v = [round(x1 / w, 3), round(y1 / h, 3), round(x2 / w, 3), round(y2 / h, 3)]
    else:
        v = [round(x1), round(y1), round(x2), round(y2)]
    if rng.random() < 0.08:
        v[2] = v[0] - 5  # inverted box
    if rng.random() < 0.05:
        v = v[:3]  # three numbers
    return "[" + ",".join(str(x) for x in v) + "]"


def record(rng: random.Random, qid: str) -> dict:
    w, h = rng.choice([(112, 112), (448, 336), (640, 480), (1000, 700)])
    evidence = []
    for _ in range(rng.choice([0, 1, 1, 2])):
        x, y = rng.uniform(0, w * 0.7), rng.uniform(0, h * 0.7)
        evidence.append([round(x, 1), round(y, 1), round(min(w, x + rng.uniform(8, w * 0.3)), 1), round(min(h, y + rng.uniform(8, h * 0.3)), 1)])
    rec = {"id": qid, "image": f"images/{qid}.png", "width": w, "height": h, "question": "What color is the small sign?", "evidence": evidence}
    if rng.random() < 0.7:
        rec["options"], rec["answer"] = ["red", "blue", "green", "yellow"], rng.choice("ABCD")
    else:
        rec["answer"] = rng.choice(["cat", "7", "stop"])
    return rec


def answer_text(rng: random.Random, rec: dict) -> str:
    r = rng.random()
    if "options" in rec:
        letter = rec["answer"] if r < 0.55 else rng.choice("ABCD")
        return rng.choice([letter, f"({letter}) {rec['options']['ABCD'.index(letter)]}", f"{letter.lower()}.", rec["options"]["ABCD".index(letter)]])
    return rec["answer"] if r < 0.55 else rng.choice(["dog", "8", "go"])


def trace(rng: random.Random, rec: dict, stream: str, convention: str) -> str:
    w, h = rec["width"], rec["height"]
    parts = [rng.choice(PHRASES) for _ in range(rng.randint(0, 2))]
    if stream == "grounded" or rng.random() < 0.1:
        for _ in range(rng.randint(0 if rng.random() < 0.2 else 1, 3)):
            base = rng.choice(rec["evidence"]) if rec["evidence"] and rng.random() < 0.6 else [rng.uniform(0, w / 2), rng.uniform(0, h / 2), rng.uniform(w / 2, w), rng.uniform(h / 2, h)]
            jitter = [base[0] + rng.uniform(-6, 6), base[1] + rng.uniform(-6, 6), base[2] + rng.uniform(-6, 6), base[3] + rng.uniform(-6, 6)]
            jitter = [max(0, min(w if i % 2 == 0 else h, v)) for i, v in enumerate(jitter)]
            parts.append(f"the object <box>{box_in(convention, jitter, w, h, rng)}</box>")
            if rng.random() < 0.15:
                parts.append(f"again <box>{box_in(convention, jitter, w, h, rng)}</box>")
    if rng.random() < 0.25:
        z = rng.choice(rec["evidence"]) if rec["evidence"] else [0, 0, w, h]
        parts.append('<tool_call>{"name":"zoom_in","arguments":{"bbox_2d":' + box_in(convention, z, w, h, rng) + "}}</tool_call>")
    think = " ".join(parts)
    form = rng.random()
    if form < 0.7:
        text = f"<think>{think}</think><answer>{answer_text(rng, rec)}</answer>"
    elif form < 0.8:
        text = f"{think}\nThe answer is {answer_text(rng, rec)}"
    elif form < 0.9:
        text = f"<think>{think}<answer>{answer_text(rng, rec)}"
    else:
        text = f"<think>{think}</think><answer>{answer_text(rng, rec)}</answer> trailing words"
    return text


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    rng = random.Random(16)
    questions = []
    for convention in CONVENTIONS:
        for i in range(QUESTIONS_PER_CONVENTION):
            rec = record(rng, f"{convention}-{i}")
            questions.append({
                "convention": convention, "record": rec,
                "grounded": [trace(rng, rec, "grounded", convention) for _ in range(GROUP)],
                "textual": [trace(rng, rec, "textual", convention) for _ in range(GROUP)],
            })
    return questions


def trl_batch(q: dict) -> dict:
    """A question's rows as TRL hands them to the reward functions: each stream prompt repeated GROUP times."""
    rows = [(s, t) for s in ("grounded", "textual") for t in q[s]]
    return {
        "prompts": [[{"role": "user", "content": s}] for s, _ in rows],
        "completions": [[{"role": "assistant", "content": t}] for _, t in rows],
        "question": [q["record"]["id"]] * len(rows),
        "stream": [s for s, _ in rows],
        "record": [json.dumps(q["record"])] * len(rows),
        "input": ["prompt"] * len(rows),
    }


def test_rewards_equal_ivgr_score_on_every_convention(corpus):
    scorer = Scorer()
    try:
        requests, trl_values = [], []
        for q in corpus:
            rewards = IvgrRewards(REWARDS, q["convention"], scorer)
            batch = trl_batch(q)
            trl_values.extend(zip(*[f(**batch) for f in rewards.functions()]))
            for t in q["grounded"]:
                requests.append({"record": q["record"], "convention": q["convention"], "rewards": REWARDS, "stream": "grounded", "trace": t})
            for t in q["textual"]:
                requests.append({"record": q["record"], "convention": q["convention"], "rewards": REWARDS, "stream": "textual", "trace": t, "references": q["grounded"]})
        reference = scorer.score(requests)
    finally:
        scorer.close()
    weights = IvgrRewards(REWARDS, "pixels", scorer).weights()
    assert len(reference) == len(trl_values) == len(CONVENTIONS) * QUESTIONS_PER_CONVENTION * GROUP * 2 >= 2000
    with_consistency = 0
    for ref, values in zip(reference, trl_values):
        for term, value in zip(TERMS, values):
            expected = ref["terms"].get(term)
            assert (value is None) == (expected is None), (term, ref)
            if value is not None:
                assert value == expected["value"], (term, value, ref)
        # TRL's total: Σ weight · value over the terms that apply (None counts as absent).
        total = sum(w * v for w, v in zip(weights, values) if v is not None)
        assert math.isclose(total, ref["total"], abs_tol=1e-9), (total, ref)
        with_consistency += values[TERMS.index("consistency")] not in (None, 0)
    # The corpus exercises the consistency term, not just its zero.
    assert with_consistency > 50


def test_batch_answers_equal_the_single_trace_command(corpus, tmp_path: Path):
    scorer = Scorer()
    cli = default_command()[:2]
    try:
        for k, q in enumerate(corpus[:: QUESTIONS_PER_CONVENTION // 3]):
            rec = tmp_path / f"record-{k}.json"
            rec.write_text(json.dumps(q["record"]))
            refs = tmp_path / f"refs-{k}.json"
            refs.write_text(json.dumps(q["grounded"]))
            for stream in ("grounded", "textual"):
                text = q[stream][k % GROUP]
                args = ["score", "--trace", "-", "--record", str(rec), "--stream", stream, "--convention", q["convention"], "--weights", "grounding=0.7,tool=0.3"]
                request = {"record": q["record"], "convention": q["convention"], "rewards": {"grounding": 0.7, "tool": 0.3}, "stream": stream, "trace": text}
                if stream == "textual":
                    args += ["--references", str(refs)]
                    request["references"] = q["grounded"]
                single = json.loads(subprocess.run([*cli, *args], input=text, capture_output=True, text=True, check=True).stdout)
                assert scorer.score([request])[0] == single
    finally:
        scorer.close()


def test_a_bad_request_names_the_field():
    scorer = Scorer()
    try:
        with pytest.raises(Exception, match=r'line 1: record: field "answer"'):
            scorer.score([{"record": {"id": "q", "image": "a.png", "width": 10, "height": 10, "question": "?", "options": ["a", "b"], "answer": "Z"}, "grounded": ["x"]}])
    finally:
        scorer.close()

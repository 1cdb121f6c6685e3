"""Training and sampling controls of the engine: clipping, grad-norm clipping, release, the
learning-rate schedule across save/restore, dtypes on CPU and nucleus sampling."""

from __future__ import annotations

import math

import pytest
import torch

from conftest import prompts
from ivgr_engine.batch import Seq, token_logprobs
from ivgr_engine.errors import INVALID_PARAMS, UNKNOWN_ROLLOUT, EngineError
from ivgr_engine.server import Engine


def gen(engine, images, seed, keep=True, n=2, k=1, max_tokens=8, **kw):
    params = {"prompts": prompts(images, k), "n": n, "temperature": 1.0, "maxTokens": max_tokens, "seed": seed, "keep": keep}
    params.update(kw)
    return engine.call("generate", params)


def update(engine, rids, **kw):
    params = {"items": [{"rolloutId": r, "advantage": 1.0} for r in rids], "clipEpsilon": 0.2, "klBeta": 0.0,
              "aggregation": "token", "microBatch": 4, "maxGradNorm": 1.0}
    params.update(kw)
    return engine.call("update", params)


def ids(result) -> list[str]:
    return [s["rolloutId"] for s in result["samples"]]


def weights(engine) -> list[torch.Tensor]:
    return [p.detach().clone() for p in engine.policy.trainable]


def load(tiny_model, **kw) -> Engine:
    e = Engine()
    e.call("load", {"model": str(tiny_model), "seed": 0, **kw})
    return e


def test_stale_old_logprobs_give_ratios_off_one_and_get_clipped(engine, images):
    # Two identical batches from the same weights: the second keeps the pre-update log-probs.
    first, second = gen(engine, images, seed=4), gen(engine, images, seed=4)
    assert [s["text"] for s in first["samples"]] == [s["text"] for s in second["samples"]]
    update(engine, ids(first), learningRate=1e-2)
    r = engine.store.get(ids(second)[0], "test")
    with torch.no_grad():
        [lp] = token_logprobs(engine.policy, engine.policy.model, [Seq(r.ids, r.start, r.pixel_values, r.grid_thw)])
    ratio = torch.exp(lp - r.old_logprobs)[r.gen_mask]
    assert float((ratio - 1.0).abs().max()) > 1e-3
    result = update(engine, ids(second), clipEpsilon=1e-4)
    assert 0.0 < result["clipFraction"] <= 1.0


def test_grad_norm_is_reported_before_clipping_and_the_step_is_bounded(engine, images, tmp_path):
    engine.call("save", {"dir": str(tmp_path / "s"), "step": 0})
    lr, max_norm = 1e-2, 1e-10
    start = weights(engine)
    changes, norms = [], []
    for limit in (max_norm, 0.0):  # 0 turns clipping off
        engine.call("restore", {"dir": str(tmp_path / "s")})
        norms.append(update(engine, ids(gen(engine, images, seed=6)), learningRate=lr, maxGradNorm=limit)["gradNorm"])
        changes.append(max(float((a - b).abs().max()) for a, b in zip(start, weights(engine))))
    clipped, free = changes
    assert norms[0] == pytest.approx(norms[1], rel=1e-4) and norms[0] > max_norm * 1e3  # the norm before clipping
    # From zero moments AdamW moves each weight by lr·ĝ/(|ĝ|+eps) with ĝ ≤ g: about lr unclipped,
    # at most lr·maxGradNorm/eps once the whole gradient is scaled down to norm maxGradNorm.
    eps = engine.policy.optimizer.param_groups[0]["eps"]
    assert free > lr / 2
    assert clipped <= lr * max_norm / eps * 1.01


def test_release_frees_kept_rollouts(engine, images):
    rids = ids(gen(engine, images, seed=8, n=3))
    assert all(engine.store.has(r) for r in rids)
    assert engine.call("release", {"rolloutIds": rids + ["never-generated"]}) == {"released": 3}
    assert not any(engine.store.has(r) for r in rids)
    with pytest.raises(EngineError) as info:
        update(engine, rids[:1])
    assert info.value.code == UNKNOWN_ROLLOUT
    assert rids[0] in info.value.message and "released" in info.value.message


def test_warmup_schedule_survives_save_and_restore_in_a_new_engine(tiny_model, images, tmp_path):
    base, warmup = 1e-3, 4
    a = load(tiny_model, learningRate=base, warmupSteps=warmup)
    lr = lambda e: e.policy.optimizer.param_groups[0]["lr"]  # noqa: E731
    assert lr(a) == pytest.approx(base / (warmup + 1))
    for seed in (1, 2):
        update(a, ids(gen(a, images, seed=seed, n=1)))
    a.call("save", {"dir": str(tmp_path / "ck"), "step": 2})
    saved = lr(a)
    update(a, ids(gen(a, images, seed=3, n=1)))
    uninterrupted = lr(a)
    assert uninterrupted == pytest.approx(base * 4 / (warmup + 1))

    b = load(tiny_model, learningRate=base, warmupSteps=warmup)
    b.call("restore", {"dir": str(tmp_path / "ck")})
    assert lr(b) == pytest.approx(saved)
    update(b, ids(gen(b, images, seed=3, n=1)))
    assert lr(b) == pytest.approx(uninterrupted)
    assert lr(b) != pytest.approx(base * 2 / (warmup + 1)), "a fresh schedule would be one step in"


def test_bfloat16_on_cpu_runs_and_float16_is_refused(tiny_model, images):
    e = load(tiny_model, dtype="bfloat16", device="cpu")
    assert e.policy.cpu_autocast
    # float32 weights and optimizer, bfloat16 matmuls: small AdamW steps are not rounded away.
    assert all(p.dtype == torch.float32 for p in e.policy.trainable)
    out = gen(e, images, seed=1, n=2, max_tokens=4)
    assert len(out["samples"]) == 2 and all(s["completionTokens"] >= 1 for s in out["samples"])
    result = update(e, ids(out))
    assert math.isfinite(result["loss"]) and result["gradNorm"] > 0
    with pytest.raises(EngineError) as info:
        load(tiny_model, dtype="float16", device="cpu")
    assert info.value.code == INVALID_PARAMS
    assert "float16 needs a CUDA device" in info.value.message and "bfloat16" in info.value.message


def test_nucleus_sampling_is_reproducible_with_a_seed(engine, images):
    texts = lambda r: [s["text"] for s in r["samples"]]  # noqa: E731
    a = gen(engine, images, seed=11, keep=False, n=3, max_tokens=10, topP=0.8)
    b = gen(engine, images, seed=11, keep=False, n=3, max_tokens=10, topP=0.8)
    c = gen(engine, images, seed=12, keep=False, n=3, max_tokens=10, topP=0.8)
    assert texts(a) == texts(b)
    assert texts(a) != texts(c)
    # A nucleus this small holds only the most likely token: sampling becomes greedy.
    narrow = gen(engine, images, seed=13, keep=False, n=3, max_tokens=10, topP=1e-6)
    greedy = gen(engine, images, seed=0, keep=False, n=1, max_tokens=10, temperature=0.0)
    assert texts(narrow) == texts(greedy) * 3

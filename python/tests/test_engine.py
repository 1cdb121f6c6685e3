"""The engine's operations, called in-process on the tiny model."""

from __future__ import annotations

import pytest
import torch

from conftest import prompts
from ivgr_engine.batch import Seq, token_logprobs
from ivgr_engine.errors import EngineError


def gen(engine, images, seed, keep=True, n=2, k=2, max_tokens=10, temperature=1.0):
    return engine.call("generate", {"prompts": prompts(images, k), "n": n, "temperature": temperature,
                                    "maxTokens": max_tokens, "seed": seed, "keep": keep})


def seq_logprob(engine, rid: str) -> float:
    r = engine.store.get(rid, "test")
    with torch.no_grad():
        [lp] = token_logprobs(engine.policy, engine.policy.model, [Seq(r.ids, r.start, r.pixel_values, r.grid_thw)])
    return float((lp * r.gen_mask).sum())


def update(engine, items, **kw):
    params = {"items": items, "clipEpsilon": 0.2, "klBeta": 0.0, "aggregation": "token", "microBatch": 2, "maxGradNorm": 1.0}
    params.update(kw)
    return engine.call("update", params)


def weights(engine) -> list[torch.Tensor]:
    return [p.detach().clone() for p in engine.policy.trainable]


def test_load_reports_tiny_model(engine):
    info = engine.policy.info()
    assert info["coordConvention"] == "qwen2-1000"
    assert info["imageSize"] == 224
    assert 1e6 < info["parameters"] < 2e7


def test_logprobs_do_not_depend_on_padding_or_batch_mates(engine, images):
    out = gen(engine, images, seed=21, n=1, k=2, max_tokens=10)
    a, b = (engine.store.get(s["rolloutId"], "t") for s in out["samples"])
    b_longer = Seq(torch.cat([b.ids, b.ids[-5:]]), b.start, b.pixel_values, b.grid_thw)
    with torch.no_grad():
        [alone] = token_logprobs(engine.policy, engine.policy.model, [Seq(a.ids, a.start, a.pixel_values, a.grid_thw)])
        padded, _ = token_logprobs(engine.policy, engine.policy.model, [Seq(a.ids, a.start, a.pixel_values, a.grid_thw), b_longer])
    torch.testing.assert_close(alone, padded, atol=1e-4, rtol=1e-4)


def test_forward_passes_use_multimodal_rotary_positions(engine, images, monkeypatch):
    """Qwen-VL places visual tokens on a (time, height, width) grid. transformers 5 does so only
    when told which tokens are image tokens, silently using 1-D positions otherwise."""
    inner = engine.policy.model.model
    plain = inner.get_rope_index
    grids = []

    def spy(*args, **kwargs):
        pos, deltas = plain(*args, **kwargs)
        grids.append(pos)
        return pos, deltas

    monkeypatch.setattr(inner, "get_rope_index", spy)
    out = gen(engine, images, seed=2, n=1, k=1, max_tokens=4)  # sampling and the old log-probs pass
    assert len(grids) >= 2
    r = engine.store.get(out["samples"][0]["rolloutId"], "t")
    image = (r.ids == engine.policy.image_token_id).nonzero().flatten()
    pos = grids[-1][:, 0, -len(r.ids):]
    assert pos[0, image].unique().numel() == 1  # one time step
    assert pos[1, image].unique().numel() > 1 and pos[2, image].unique().numel() > 1  # a 2-D grid


def test_generate_is_reproducible_with_a_seed(engine, images):
    a = gen(engine, images, seed=11, keep=False)
    b = gen(engine, images, seed=11, keep=False)
    c = gen(engine, images, seed=12, keep=False)
    texts = lambda r: [s["text"] for s in r["samples"]]  # noqa: E731
    assert texts(a) == texts(b)
    assert texts(a) != texts(c)
    assert [s["promptId"] for s in a["samples"]] == ["p0", "p0", "p1", "p1"]
    assert all(s["finish"] in ("stop", "length") for s in a["samples"])


def test_old_logprobs_make_the_first_ratio_one(engine, images):
    out = gen(engine, images, seed=3)
    items = [{"rolloutId": s["rolloutId"], "advantage": 1.0 if i % 2 else -0.5} for i, s in enumerate(out["samples"])]
    lengths = [engine.store.get(s["rolloutId"], "t").gen_mask.sum().item() for s in out["samples"]]
    expected = -sum(it["advantage"] * n for it, n in zip(items, lengths)) / sum(lengths)
    r = update(engine, items)
    # ratio == 1 everywhere: nothing clipped, loss = -(token-weighted mean advantage)
    assert r["clipFraction"] == 0.0
    assert r["loss"] == pytest.approx(expected, abs=1e-5)


def test_positive_advantage_raises_the_sample_logprob(engine, images):
    out = gen(engine, images, seed=5, n=1, k=1, max_tokens=8)
    rid = out["samples"][0]["rolloutId"]
    before = seq_logprob(engine, rid)
    engine.call("generate", {"prompts": prompts(images, 1), "n": 1, "temperature": 1.0, "maxTokens": 8, "seed": 5, "keep": True})
    rid2 = f"p0:{engine.counter}:0"
    update(engine, [{"rolloutId": rid2, "advantage": 1.0}], learningRate=5e-3)
    after = seq_logprob(engine, rid)
    assert after > before + 1e-3


def test_negative_advantage_lowers_it(engine, images):
    out = gen(engine, images, seed=6, n=1, k=1, max_tokens=8)
    rid = out["samples"][0]["rolloutId"]
    before = seq_logprob(engine, rid)
    gen(engine, images, seed=6, n=1, k=1, max_tokens=8)
    update(engine, [{"rolloutId": f"p0:{engine.counter}:0", "advantage": -1.0}], learningRate=5e-3)
    assert seq_logprob(engine, rid) < before - 1e-3


def test_kl_to_reference_is_zero_before_training_and_positive_after(engine, images):
    out = gen(engine, images, seed=7)
    r1 = update(engine, [{"rolloutId": s["rolloutId"], "advantage": 1.0} for s in out["samples"]], klBeta=0.1, learningRate=1e-2)
    assert r1["kl"] == pytest.approx(0.0, abs=1e-6)
    out = gen(engine, images, seed=8)
    r2 = update(engine, [{"rolloutId": s["rolloutId"], "advantage": 1.0} for s in out["samples"]], klBeta=0.1)
    assert r2["kl"] > 0


@pytest.mark.parametrize("aggregation", ["token", "sequence"])
def test_micro_batches_accumulate_to_the_same_loss_and_gradient(engine, images, tmp_path, aggregation):
    engine.call("save", {"dir": str(tmp_path / "s"), "step": 0})
    results = []
    for micro in (4, 1):
        engine.call("restore", {"dir": str(tmp_path / "s")})
        out = gen(engine, images, seed=9)
        items = [{"rolloutId": s["rolloutId"], "advantage": float(i) - 1.5} for i, s in enumerate(out["samples"])]
        results.append(update(engine, items, aggregation=aggregation, microBatch=micro))
    whole, split = results
    assert split["loss"] == pytest.approx(whole["loss"], abs=1e-6)
    assert split["gradNorm"] == pytest.approx(whole["gradNorm"], rel=1e-4)


def test_save_restore_gives_identical_outputs_and_optimizer_state(engine, images, tmp_path):
    out = gen(engine, images, seed=1)
    update(engine, [{"rolloutId": s["rolloutId"], "advantage": 1.0} for s in out["samples"]])
    engine.call("save", {"dir": str(tmp_path / "ck"), "step": 1})
    greedy_before = gen(engine, images, seed=0, keep=False, temperature=0.0)
    # Branch A: one more step from the saved state.
    out = gen(engine, images, seed=2)
    update(engine, [{"rolloutId": s["rolloutId"], "advantage": 1.0} for s in out["samples"]])
    branch_a = weights(engine)
    state_a = engine.policy.optimizer.state_dict()["state"]
    # Branch B: restore, same step again: identical weights means identical optimizer moments.
    assert engine.call("restore", {"dir": str(tmp_path / "ck")}) == {"step": 1}
    assert [s["text"] for s in gen(engine, images, seed=0, keep=False, temperature=0.0)["samples"]] == [s["text"] for s in greedy_before["samples"]]
    out = gen(engine, images, seed=2)
    update(engine, [{"rolloutId": s["rolloutId"], "advantage": 1.0} for s in out["samples"]])
    for a, b in zip(branch_a, weights(engine)):
        assert torch.equal(a, b)
    state_b = engine.policy.optimizer.state_dict()["state"]
    for k in state_a:
        assert torch.equal(state_a[k]["exp_avg_sq"], state_b[k]["exp_avg_sq"])


def test_checkpoint_saved_before_any_update_resumes_as_a_fresh_start(engine, tiny_model, images, tmp_path):
    from ivgr_engine.server import Engine

    def fresh():
        e = Engine()
        e.call("load", {"model": str(tiny_model), "learningRate": 2e-3, "seed": 0, "reference": True})
        return e

    def one_update(e):
        out = gen(e, images, seed=1)
        update(e, [{"rolloutId": s["rolloutId"], "advantage": 1.0} for s in out["samples"]])
        return weights(e)

    uninterrupted = one_update(fresh())
    engine.call("save", {"dir": str(tmp_path / "ck0"), "step": 0})
    assert not engine.policy.optimizer.state, "saving leaves an unstepped optimizer without state"
    resumed = fresh()
    resumed.call("restore", {"dir": str(tmp_path / "ck0")})
    assert not resumed.policy.optimizer.state
    for name, e in (("saver", engine), ("resumed", resumed)):
        for a, b in zip(uninterrupted, one_update(e)):
            assert torch.equal(a, b), name


def test_restore_restores_rng_states(engine, tmp_path):
    import random

    import numpy as np

    engine.call("save", {"dir": str(tmp_path / "r"), "step": 4})
    a = (torch.rand(3), np.random.rand(), random.random())
    engine.call("restore", {"dir": str(tmp_path / "r")})
    b = (torch.rand(3), np.random.rand(), random.random())
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]


def test_checkpoint_folder_loads_as_a_model(engine, images, tmp_path):
    engine.call("save", {"dir": str(tmp_path / "m"), "step": 2})
    want = [s["text"] for s in gen(engine, images, seed=0, keep=False, temperature=0.0)["samples"]]
    from ivgr_engine.server import Engine

    other = Engine()
    info = other.call("load", {"model": str(tmp_path / "m")})
    assert info["coordConvention"] == "qwen2-1000"
    assert [s["text"] for s in gen(other, images, seed=0, keep=False, temperature=0.0)["samples"]] == want


def test_continue_appends_a_tool_turn_masked_out_of_the_loss(engine, images):
    out = gen(engine, images, seed=4, n=1, k=1, max_tokens=6)
    rid = out["samples"][0]["rolloutId"]
    first = engine.store.get(rid, "t")
    n_first = int(first.gen_mask.sum())
    res = engine.call("continue", {"rolloutId": rid, "image": images["blue"], "text": "Zoomed view.", "maxTokens": 5,
                                   "temperature": 1.0, "seed": 1, "keep": True})
    assert res["rolloutId"] == rid and res["completionTokens"] >= 1
    r = engine.store.get(rid, "t")
    assert r.grid_thw.shape[0] == 2  # the original image and the crop
    assert int(r.gen_mask.sum()) == n_first + res["completionTokens"]
    assert not bool(r.gen_mask.all())  # the tool turn is not trained on
    assert r.old_logprobs.shape == r.gen_mask.shape
    u = update(engine, [{"rolloutId": rid, "advantage": 1.0}])
    assert u["clipFraction"] == 0.0


def test_sft_step_lowers_the_loss_on_its_examples(engine, images):
    ex = [{"images": [images["red"]], "messages": [{"role": "user", "text": "What color is the square?"}],
           "target": "<think>The square is red.</think><answer>A</answer>"}]
    losses = [engine.call("sft_step", {"examples": ex, "microBatch": 1, "learningRate": 3e-3})["loss"] for _ in range(4)]
    assert losses[-1] < losses[0]
    lp = engine.call("logprobs", {"items": [{**ex[0]}]})["items"][0]
    assert lp["total"] == pytest.approx(sum(lp["tokens"]), rel=1e-5)
    assert len(lp["tokens"]) == len(engine.policy.tokenizer(ex[0]["target"], add_special_tokens=False)["input_ids"])


@pytest.mark.parametrize("method,params,needle", [
    ("generate", {"prompts": [], "n": 1, "temperature": 1, "maxTokens": 4, "seed": 0, "keep": False}, "generate.prompts"),
    ("generate", {"prompts": [{"id": "x", "images": [], "messages": [{"role": "robot", "text": "hi"}]}], "n": 1, "temperature": 1, "maxTokens": 4, "seed": 0, "keep": False}, "role"),
    ("generate", {"prompts": [{"id": "x", "images": [], "messages": [{"role": "user", "text": "<|image_pad|>"}]}], "n": 1, "temperature": 1, "maxTokens": 4, "seed": 0, "keep": False}, "reserved"),
    ("generate", {"prompts": [{"id": "x", "images": [], "messages": [{"role": "user", "text": "hi"}]}], "n": "2", "temperature": 1, "maxTokens": 4, "seed": 0, "keep": False}, "generate.n"),
    ("update", {"items": [{"rolloutId": "nope", "advantage": 1}], "clipEpsilon": 0.2, "klBeta": 0, "aggregation": "token", "microBatch": 1, "maxGradNorm": 1}, "unknown rollout"),
    ("update", {"items": [{"rolloutId": "nope", "advantage": 1}], "clipEpsilon": 0.2, "klBeta": 0, "aggregation": "mean", "microBatch": 1, "maxGradNorm": 1}, "aggregation"),
    ("restore", {"dir": "/definitely/not/here"}, "not a checkpoint"),
    ("continue", {"rolloutId": "gone", "image": "x.png", "text": "", "maxTokens": 3, "temperature": 0, "seed": 0, "keep": False}, "unknown rollout"),
])
def test_bad_requests_raise_engine_errors(engine, method, params, needle):
    with pytest.raises(EngineError) as info:
        engine.call(method, params)
    assert needle in info.value.message


def test_bad_images_name_the_file(engine, images):
    for path in (images["broken"], "/no/such/image.png"):
        with pytest.raises(EngineError) as info:
            engine.call("generate", {"prompts": [{"id": "x", "images": [path], "messages": [{"role": "user", "text": "hi"}]}],
                                     "n": 1, "temperature": 1, "maxTokens": 2, "seed": 0, "keep": False})
        assert path in info.value.message


def test_update_with_eval_rollouts_is_refused(engine, images):
    out = gen(engine, images, seed=1, keep=False, n=1, k=1)
    with pytest.raises(EngineError, match="keep: false"):
        update(engine, [{"rolloutId": out["samples"][0]["rolloutId"], "advantage": 1.0}])


def test_missing_model_folder(tmp_path):
    from ivgr_engine.server import Engine

    with pytest.raises(EngineError, match="model folder not found"):
        Engine().call("load", {"model": str(tmp_path / "absent")})
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineError, match="no config.json"):
        Engine().call("load", {"model": str(tmp_path / "empty")})

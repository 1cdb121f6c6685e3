"""The engine under torchrun: 2 CPU processes on the gloo backend, rank 0 speaks the protocol."""

from __future__ import annotations

import sys

import pytest

from conftest import RpcProcess, prompts


@pytest.mark.parametrize("parallel,lora", [("ddp", None), ("fsdp", None), ("fsdp", {"rank": 4, "alpha": 8})])
def test_two_ranks_hold_identical_weights_after_an_update(tiny_model, images, tmp_path, parallel, lora):
    p = RpcProcess([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "ivgr_engine"],
                   env={"OMP_NUM_THREADS": "1"})
    try:
        load = {"model": str(tiny_model), "learningRate": 1e-2, "seed": 0, "parallel": parallel}
        if lora:
            load["lora"] = lora
        assert "result" in p.call("load", load)
        start = p.call("digest")["result"]
        assert len(start["ranks"]) == 2 and start["ranks"][0] == start["ranks"][1]
        g = p.call("generate", {"prompts": prompts(images, 5), "n": 1, "temperature": 1.0, "maxTokens": 6, "seed": 1, "keep": True})["result"]
        # 5 rows, sharded 3 + 2 over the ranks, come back complete and in prompt order; with one
        # sequence per micro-batch, rank 1 runs a zero-weight filler to match rank 0's passes.
        assert [s["promptId"] for s in g["samples"]] == ["p0", "p1", "p2", "p3", "p4"]
        items = [{"rolloutId": s["rolloutId"], "advantage": 1.0 if i % 2 else -1.0} for i, s in enumerate(g["samples"])]
        u = p.call("update", {"items": items, "clipEpsilon": 0.2, "klBeta": 0.05 if lora else 0.0, "aggregation": "token", "microBatch": 1, "maxGradNorm": 1.0})
        assert u["result"]["gradNorm"] > 0
        after = p.call("digest")["result"]
        assert after["step"] == 1
        assert after["ranks"][0] == after["ranks"][1], "ranks diverged after the update"
        assert after["ranks"][0] != start["ranks"][0], "the update changed nothing"
        ck = str(tmp_path / "ck")
        assert "result" in p.call("save", {"dir": ck, "step": 1})
        assert (tmp_path / "ck" / "rng-1.json").is_file()
        g = p.call("generate", {"prompts": prompts(images, 1), "n": 2, "temperature": 1.0, "maxTokens": 4, "seed": 2, "keep": True})["result"]
        p.call("update", {"items": [{"rolloutId": s["rolloutId"], "advantage": 1.0} for s in g["samples"]], "clipEpsilon": 0.2,
                          "klBeta": 0.0, "aggregation": "sequence", "microBatch": 4, "maxGradNorm": 1.0})
        assert p.call("restore", {"dir": ck})["result"] == {"step": 1}
        assert p.call("digest")["result"]["ranks"] == after["ranks"]
        assert p.call("shutdown")["result"] == {}
        assert p.proc.wait(timeout=60) == 0
    finally:
        p.proc.kill()

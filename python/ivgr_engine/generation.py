"""`generate` and `continue`: batched sampling with left padding, rollouts kept by id."""

from __future__ import annotations

import time

import torch

from . import dist
from .batch import Seq, left_pad, token_logprobs, vision_inputs
from .errors import Cancelled, invalid, oom_context
from .params import field, integer, number, objects, strings
from .prompts import chat_text, parse_messages, tool_turn_text
from .rollouts import Rollout, RolloutStore

# Rows per forward when recomputing old log-probs after sampling.
LOGPROB_BATCH = 16


class _StopOnCancel:
    """A transformers StoppingCriteria that ends generation when the client cancels."""

    def __init__(self, cancel):
        self.cancel = cancel

    def __call__(self, input_ids, scores, **kwargs):
        return torch.full((input_ids.shape[0],), self.cancel.is_set(), dtype=torch.bool, device=input_ids.device)


def sampling_params(params: dict, where: str) -> dict:
    return {
        "temperature": number(params, "temperature", where, 0.0, 100.0),
        "top_p": number(params, "topP", where, 0.0, 1.0, 1.0),
        "max_tokens": integer(params, "maxTokens", where, 1, 1 << 16),
        "seed": integer(params, "seed", where, 0, 2**63 - 1),
        "keep": field(params, "keep", bool, where),
    }


def stop_ids(policy, params: dict, where: str) -> list[int]:
    out = []
    for i, s in enumerate(strings(params, "stop", where, default=[])):
        ids = policy.tokenizer(s, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise invalid(f"{where}.stop[{i}]: {s!r} is not a single token of this tokenizer (it encodes to {len(ids)} tokens)")
        out.append(ids[0])
    return out


def sample(policy, seqs: list[Seq], sp: dict, extra_stop: list[int], cancel) -> list[tuple[list[int], str]]:
    """Samples one continuation per sequence; returns (tokens incl. the stop token, finish)."""
    from transformers import StoppingCriteriaList

    device = policy.device
    ids, mask = left_pad([s.ids for s in seqs], policy.pad_id, device)
    stops = policy.eos_ids + extra_stop
    kwargs = vision_inputs(policy, seqs, ids)
    greedy = sp["temperature"] <= 0
    torch.manual_seed(sp["seed"] + 7919 * dist.rank())
    was_training = policy.model.training
    policy.model.eval()
    try:
        with torch.inference_mode(), policy.compute(), oom_context("generate", len(seqs)):
            out = policy.model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=sp["max_tokens"],
                do_sample=not greedy,
                temperature=None if greedy else sp["temperature"],
                top_p=None if greedy else sp["top_p"],
                top_k=None,
                eos_token_id=stops,
                pad_token_id=policy.pad_id,
                suppress_tokens=policy.suppress or None,
                # Under torchrun only rank 0 hears a cancel; stopping there alone would desynchronise the ranks.
                stopping_criteria=StoppingCriteriaList([_StopOnCancel(cancel)] if dist.world() == 1 else []),
                use_cache=True,
                **kwargs,
            )
    finally:
        policy.model.train(was_training)
    if cancel.is_set() and dist.world() == 1:
        raise Cancelled("generate")
    results = []
    stop_set = set(stops)
    for row in out[:, ids.shape[1]:].tolist():
        cut = next((i for i, t in enumerate(row) if t in stop_set), None)
        if cut is None:
            results.append((row, "length"))
        else:
            results.append((row[: cut + 1], "stop"))
    return results


def decode(policy, tokens: list[int]) -> str:
    if tokens and tokens[-1] in policy.eos_ids:
        tokens = tokens[:-1]
    return policy.tokenizer.decode(tokens, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def fill_old_logprobs(policy, rollouts: list[Rollout]) -> None:
    """Old log-probs from a gradient-free pass in training mode, exactly as `update` computes them,
    so the ratio is 1 before the first step."""
    with torch.no_grad():
        for i in range(0, len(rollouts), LOGPROB_BATCH):
            chunk = rollouts[i:i + LOGPROB_BATCH]
            with oom_context("generate (old log-probs)", len(chunk)):
                lps = token_logprobs(policy, policy.model, [Seq(r.ids, r.start, r.pixel_values, r.grid_thw) for r in chunk])
            for r, lp in zip(chunk, lps):
                r.old_logprobs = lp.detach().cpu()


def generate(policy, store: RolloutStore, params: dict, counter: int, cancel) -> dict:
    t0 = time.perf_counter()
    w = "generate"
    prompts = objects(params, "prompts", w, min_items=1)
    n = integer(params, "n", w, 1, 1024)
    sp = sampling_params(params, w)
    extra_stop = stop_ids(policy, params, w)
    encoded = []
    for i, p in enumerate(prompts):
        where = f"generate.prompts[{i}]"
        pid = field(p, "id", str, where)
        if any(pid == other for other, _ in encoded):
            raise invalid(f"{where}.id {pid!r} repeats an earlier prompt's id; prompt ids must be unique within a request")
        images, messages = parse_messages(p, where)
        enc = policy.encoder.encode(chat_text(messages, len(images), where), images, where)
        encoded.append((pid, enc))
    rows = [(pi, s) for pi in range(len(prompts)) for s in range(n)]
    mine_idx = list(dist.shard(len(rows)))
    mine = [rows[i] for i in mine_idx]
    seqs = []
    for pi, _ in mine:
        enc = encoded[pi][1]
        seqs.append(Seq(torch.tensor(enc.ids, dtype=torch.long), len(enc.ids), enc.pixel_values, enc.grid_thw))
    # Ranks sample different rows, so under FSDP the weights are gathered once for the whole call.
    with policy.parallel.full_params():
        results = sample(policy, seqs, sp, extra_stop, cancel) if seqs else []
        samples, new = [], []
        for row, (pi, s), seq, (tokens, finish) in zip(mine_idx, mine, seqs, results):
            pid = encoded[pi][0]
            rid = f"{pid}:{counter}:{s}"
            full = torch.cat([seq.ids, torch.tensor(tokens, dtype=torch.long)])
            r = Rollout(pid, full, seq.start, torch.ones(len(tokens), dtype=torch.bool), seq.pixel_values, seq.grid_thw,
                        ended=bool(tokens) and tokens[-1] in policy.eos_ids)
            new.append(r)
            store.put(rid, r)
            samples.append((row, {
                "rolloutId": rid, "promptId": pid, "text": decode(policy, tokens),
                "promptTokens": int(seq.start), "completionTokens": len(tokens), "finish": finish,
            }))
        if sp["keep"]:
            fill_old_logprobs(policy, new)
    merged = sorted((x for part in dist.gather(samples) for x in part), key=lambda x: x[0])
    return {"samples": [x[1] for x in merged], "seconds": time.perf_counter() - t0}


def continue_rollout(policy, store: RolloutStore, params: dict, cancel) -> dict:
    w = "continue"
    rid = field(params, "rolloutId", str, w)
    image = field(params, "image", str, w)
    text = field(params, "text", str, w)
    sp = sampling_params(params, w)
    extra_stop = stop_ids(policy, params, w)
    owned = store.has(rid)
    if not any(dist.gather(owned)):
        store.get(rid, w)  # raises the unknown-rollout error
    result = None
    with policy.parallel.full_params():
        if owned:
            r = store.get(rid, w)
            turn = policy.encoder.encode(tool_turn_text(text, r.ended), [image], w)
            ctx = torch.cat([r.ids, torch.tensor(turn.ids, dtype=torch.long)])
            pv = torch.cat([r.pixel_values, turn.pixel_values]) if r.pixel_values is not None else turn.pixel_values
            grid = torch.cat([r.grid_thw, turn.grid_thw]) if r.grid_thw is not None else turn.grid_thw
            [(tokens, finish)] = sample(policy, [Seq(ctx, len(ctx), pv, grid)], sp, extra_stop, cancel)
            r.ids = torch.cat([ctx, torch.tensor(tokens, dtype=torch.long)])
            r.gen_mask = torch.cat([r.gen_mask, torch.zeros(len(turn.ids), dtype=torch.bool), torch.ones(len(tokens), dtype=torch.bool)])
            r.pixel_values, r.grid_thw = pv, grid
            r.ended = bool(tokens) and tokens[-1] in policy.eos_ids
            r.old_logprobs = None
            if sp["keep"]:
                fill_old_logprobs(policy, [r])
            store.put(rid, r)
            result = {
                "rolloutId": rid, "promptId": r.prompt_id, "text": decode(policy, tokens),
                "promptTokens": int(len(ctx)), "completionTokens": len(tokens), "finish": finish,
            }
    return next(x for x in dist.gather(result) if x is not None)

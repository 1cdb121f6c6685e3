"""Whether the position before a trace's region knows which object to look for, and whether an
attention head there could pick that object out.

  python bench/learning/query.py --model DIR --pool DIR/traces.jsonl [--scenes 1500]

POOL is a pretraining pool of trace questions (as for which.py). For each colour question (the
object named by its shape) and shape question (named by its colour), the reference textual trace is
fed up to "It is", where the region comes next. At that position:

- a linear probe, per layer, of the word that names the asked object (its shape or its colour), fit
  on the first 70 % of the questions and scored on the rest: whether the query of that
  layer's attention can know what to look for;
- per head of each layer, the share of its attention on the scene's objects that goes to the asked
  one (scenes with another object), against the asked object's share of the objects' tokens:
  whether one of the model's heads looks it up;
- a fresh attention head (query and key projections of head size 64) trained on the input of
  layer 1 to put its object attention on the asked object, scored on the held-out third: without
  rotary position terms, and with the model's M-RoPE at its base and at others. Whether the
  representations and the position terms allow a lookup by name at all.
"""

from __future__ import annotations

import copy

import torch
from probe_model import ProbeModel, attribute_questions, linear_probe, probe_args
from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as qwen

HEAD = 64


def rms(x: torch.Tensor) -> torch.Tensor:
    return x / (x.pow(2).mean(-1, keepdim=True).sqrt() + 1e-6)


def fresh_head(rows: list[dict], rope: str) -> float:
    """Held-out mean share of a query/key pair trained to look at the asked object."""
    torch.manual_seed(0)
    hidden = rows[0]["query"].shape[-1]
    wq, wk = torch.nn.Linear(hidden, HEAD), torch.nn.Linear(hidden, HEAD)
    opt = torch.optim.Adam([*wq.parameters(), *wk.parameters()], lr=3e-3, weight_decay=1e-4)
    cut = 2 * len(rows) // 3

    def share(r: dict) -> torch.Tensor:
        q, k = wq(r["query"])[None], wk(r["keys"])
        if rope != "none":
            cos, sin = r["rope"][rope]
            q = q * cos[-1:] + qwen.rotate_half(q) * sin[-1:]
            k = k * cos[:-1] + qwen.rotate_half(k) * sin[:-1]
        att = torch.softmax(k @ q[0] / HEAD**0.5, -1)
        on = att[r["asked"]].sum()
        return on / (on + att[r["rest"]].sum())

    for _ in range(60):
        for i in range(0, cut, 16):
            opt.zero_grad()
            torch.stack([-torch.log(share(r) + 1e-6) for r in rows[i : i + 16]]).mean().backward()
            opt.step()
    with torch.no_grad():
        return float(torch.stack([share(r) for r in rows[cut:]]).mean())


def main() -> None:
    a = probe_args(__doc__, 1500)
    pm = ProbeModel.load(a.model, attn_implementation="eager")
    lm = pm.model.model.language_model
    positions: dict[str, torch.Tensor] = {}
    lm.rotary_emb.register_forward_hook(lambda _m, args, _out: positions.__setitem__("ids", args[1]))
    base = float(pm.model.config.text_config.rope_parameters["rope_theta"])
    bases = {f"base {b:g}": b for b in sorted({base, 1000.0, 10000.0})}
    rotaries = {}
    for name, b in bases.items():
        rotaries[name] = copy.deepcopy(lm.rotary_emb)
        rotaries[name].inv_freq = 1.0 / (b ** (torch.arange(0, HEAD, 2).float() / HEAD))

    states: dict[str, list[list[torch.Tensor]]] = {"colour": [], "shape": []}
    names: dict[str, list[str]] = {"colour": [], "shape": []}
    head_share: dict[tuple[str, int], list] = {}
    rows: list[dict] = []
    by_size: list[float] = []
    for it, q, kind in attribute_questions(a.pool, a.scenes):
        o = it["objects"][q["object"]]
        forced = pm.before_region(q)
        visual = (forced[0] == pm.pad).nonzero().squeeze(-1)
        asked, rest = pm.asked_and_others(it, q)
        with torch.no_grad():
            out = pm.model(**pm.inputs(forced, pm.picture(a.pool.parent / it["image"])), output_hidden_states=True, output_attentions=True)
        states[kind].append([h[0, -1] for h in out.hidden_states])
        names[kind].append(o["shape"] if kind == "colour" else o["colour"])
        if not rest:
            continue
        for layer, w in enumerate(out.attentions):
            w = w[0, :, -1]
            on, off = w[:, visual[asked]].sum(-1), w[:, visual[rest]].sum(-1)
            acc = head_share.setdefault((kind, layer), [torch.zeros(w.shape[0]), 0])
            acc[0] += on / (on + off + 1e-9)
            acc[1] += 1
        by_size.append(len(asked) / (len(asked) + len(rest)))
        h = rms(out.hidden_states[1][0])
        where = torch.cat([visual, torch.tensor([forced.shape[1] - 1])])
        with torch.no_grad():
            rope = {n: tuple(x[0, where] for x in r(h[None], positions["ids"])) for n, r in rotaries.items()}
        rows.append({"query": h[-1], "keys": h[visual], "asked": asked, "rest": rest, "rope": rope})

    print(f"model {a.model}")
    for kind, by in (("colour", "shape"), ("shape", "colour")):
        n = len(names[kind])
        if not n:
            continue
        vocab = sorted(set(names[kind]))
        labels = [vocab.index(v) for v in names[kind]]
        print(f'{kind} questions ({n}), the object named by its {by}; at "It is":')
        for layer in range(len(states[kind][0])):
            acc = linear_probe([s[layer] for s in states[kind]], labels, len(vocab))
            print(f"  {by} read from the input of layer {layer}: {acc:.1%} (chance {1 / len(vocab):.0%})")
        for (k, layer), (total, count) in sorted(head_share.items()):
            if k == kind:
                shares = " ".join(f"{s:.2f}" for s in (total / count).tolist())
                print(f"  layer {layer}, share of each head's object attention on the asked object: {shares}")
    print(f"the asked object's share of the objects' tokens (a look spread over every object): {sum(by_size) / len(by_size):.2f}")
    print(f"a fresh head on the input of layer 1, {len(rows)} questions (held-out third), share on the asked object:")
    for rope in ("none", *bases):
        print(f"  rotary terms {rope}: {fresh_head(rows, rope):.2f}")


if __name__ == "__main__":
    main()

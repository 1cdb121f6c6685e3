"""Where the tiny model loses an object's shape on its way from the image to a trace's answer.

  python bench/learning/readout.py --model DIR --pool DIR/traces.jsonl [--scenes 1200]

POOL is a pretraining pool of trace questions (`<run>/data/<stage>.jsonl` of a trace stage, drawn
from a seed the model was not trained on). For the pool's textual shape questions the reference
trace is fed up to "It is a" and the script prints:

- a linear probe (70/30 split) of each object's shape from the mean of its visual tokens, and
  from the visual token at its centre: what the vision tower hands the language model;
- a linear probe of the asked object's shape from the hidden state, at each layer, of the
  position that writes the shape: what reaches the answer;
- the share of those positions whose most likely shape word is right, as the model runs, and
  with the attention of that position in layers 1-3 confined to the asked object's tokens.
"""

from __future__ import annotations

import torch
from probe_model import ProbeModel, linear_probe, pool_scenes, probe_args
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward

SHAPES = ["star", "circle", "square", "triangle", "diamond", "cross"]
CONFINED_LAYERS = (1, 2, 3)


class Confine:
    """An attention function that adds `bias` ([query, key]) in the confined layers, when set."""

    bias: torch.Tensor | None = None

    @classmethod
    def forward(cls, module, query, key, value, attention_mask, **kw):
        if cls.bias is not None and getattr(module, "layer_idx", None) in CONFINED_LAYERS:
            causal = torch.triu(torch.full((query.shape[2], key.shape[2]), float("-inf")), 1)
            attention_mask = (causal + cls.bias)[None, None]
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kw)


def main() -> None:
    a = probe_args(__doc__, 1200)
    AttentionInterface.register("confine", Confine.forward)
    pm = ProbeModel.load(a.model)
    pm.model.model.language_model.config._attn_implementation = "confine"
    captured: dict[str, torch.Tensor] = {}
    pm.model.model.visual.register_forward_hook(lambda _m, _i, out: captured.__setitem__("visual", out.pooler_output))
    first = [pm.tok(" " + s, add_special_tokens=False)["input_ids"][0] for s in SHAPES]

    pooled, centre, obj_y = [], [], []
    hidden: dict[int, list[torch.Tensor]] = {}
    asked_y, right, right_confined = [], 0, 0
    for it in pool_scenes(a.pool)[: a.scenes]:
        q = next((q for q in it["questions"] if q["stream"] == "textual" and q["question"].startswith("What shape")), None)
        if q is None:
            continue
        ids = pm.textual_prompt(q["question"], q["answer"][: q["answer"].rfind(" It is a ") + len(" It is a")])
        inputs = pm.inputs(ids, pm.picture(a.pool.parent / it["image"]))
        g = pm.grid
        with torch.no_grad():
            Confine.bias = None
            out = pm.model(**inputs, output_hidden_states=True)
            tokens = captured["visual"]
            for o in it["objects"]:
                cells = pm.object_tokens(o["box"], it["width"], it["height"])
                if o["shape"] == "sign" or not cells:
                    continue
                x1, y1, x2, y2 = o["box"]
                cx = min(g - 1, int((x1 + x2) / 2 * g / it["width"]))
                cy = min(g - 1, int((y1 + y2) / 2 * g / it["height"]))
                pooled.append(tokens[cells].mean(0))
                centre.append(tokens[cy * g + cx])
                obj_y.append(SHAPES.index(o["shape"]))
            o = it["objects"][q["object"]]
            y = SHAPES.index(o["shape"])
            asked_y.append(y)
            for layer, h in enumerate(out.hidden_states):
                hidden.setdefault(layer, []).append(h[0, -1])
            right += int(out.logits[0, -1, first].argmax()) == y
            visual = (ids[0] == pm.pad).nonzero().squeeze(-1)
            keep = visual[torch.tensor(pm.object_tokens(o["box"], it["width"], it["height"]))]
            bias = torch.zeros(ids.shape[1], ids.shape[1])
            bias[-1, visual] = float("-inf")
            bias[-1, keep] = 0.0
            Confine.bias = bias
            right_confined += int(pm.model(**inputs).logits[0, -1, first].argmax()) == y
    n = len(asked_y)
    print(f"model {a.model}; {len(obj_y)} objects, {n} shape questions (chance {1 / len(SHAPES):.0%})")
    print(f"probe, mean of the object's visual tokens   {linear_probe(pooled, obj_y, len(SHAPES)):.1%}")
    print(f"probe, the visual token at its centre       {linear_probe(centre, obj_y, len(SHAPES)):.1%}")
    for layer, hs in hidden.items():
        print(f"probe, answer position, layer {layer} input      {linear_probe(hs, asked_y, len(SHAPES)):.1%}")
    print(f"shape word right, as the model runs          {right / n:.1%}")
    print(f"  attention of layers 1-3 on the object only {right_confined / n:.1%}")


if __name__ == "__main__":
    main()

"""Perception pretraining of a small Qwen2.5-VL from random weights.

`python -m ivgr_engine.pretrain --run DIR` trains on the scenes and questions that
`ivgr pretrain` rendered into DIR/data (see src/worker/pretrain-run.ts) with the recipe in
DIR/pretrain.json, writes progress lines to stderr, metrics and held-out perception scores
to DIR/events/metrics.jsonl, checkpoints to DIR/checkpoints/<step>/ (each one a model
folder `model:` accepts) and the final model to DIR/model/. Run again on the same folder,
it continues from the newest checkpoint. SIGINT or SIGTERM stops at the next step with a
checkpoint (exit code 3).

Training aids exist only here and are not saved with the model:
- dense labels on the visual tokens (the colour and shape of the object each token shows),
  so the vision tower's output becomes linearly readable, and object-level labels on the mean
  of an object's tokens (its colour and shape, and a sign's word);
- a position target (row and column of each visual token) read from a language-model layer;
- an attention target: the attention mass from the answer position onto the visual tokens
  of the object the question names;
- optionally, a separation target: of the mass those positions put on the scene's objects,
  the share on the named one, so that looking at every object does not meet the target;
- optionally, a finder target: the same share for the one attention head that meets it best
  across the batch, at the positions before a trace says where the object is, so that one head
  looks the named object up.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from .checkpoint import MODEL_FILES, published_key

STATE_FILE = "pretrain-state.pt"
PAUSED_EXIT = 3


@dataclass
class Example:
    image: Path | None  # None: a text-only question (a `match` or `copy` stage)
    width: int
    height: int
    objects: list[dict]
    question: dict


def read_jsonl(path: Path) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise SystemExit(f"pretrain: {path}:{n}: not valid JSON: {e}") from None
    return out


class Pool:
    """A rendered pool of scenes (DIR/data/<name>.jsonl and its images)."""

    def __init__(self, data: Path, name: str):
        self.name = name
        self.items = read_jsonl(data / f"{name}.jsonl")
        self.root = data
        if not self.items:
            raise SystemExit(f"pretrain: {data / name}.jsonl holds no scenes")

    def example(self, i: int, q: int) -> Example:
        it = self.items[i]
        image = self.root / it["image"] if it.get("image") else None
        return Example(image, it["width"], it["height"], it["objects"], it["questions"][q])

    def sample(self, rng: random.Random) -> Example:
        i = rng.randrange(len(self.items))
        return self.example(i, rng.randrange(len(self.items[i]["questions"])))


class Recipe:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.stages = cfg["stages"]
        self.total = sum(s["steps"] for s in self.stages)
        o = cfg["optimizer"]
        self.lr, self.warmup, self.min_lr = o["learningRate"], o["warmupSteps"], o["minLearningRate"]

    def stage_at(self, step: int) -> int:
        acc = 0
        for k, s in enumerate(self.stages):
            acc += s["steps"]
            if step < acc:
                return k
        return len(self.stages) - 1

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        t = (step - self.warmup) / max(1, self.total - self.warmup)
        return self.min_lr + (self.lr - self.min_lr) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


@dataclass
class Vocabulary:
    """The benchmark's class names as pretrain.json lists them; the aids number classes by them."""

    colours: list[str]
    shapes: list[str]
    words: list[str]


def finder_terms(heads: torch.Tensor, asked: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """Per head, -log of the share of its object attention on the asked object, mean over queries.

    `heads` is one layer's attention of the answer positions ([heads, queries, keys]); `asked` and
    `other` index the keys of the asked object's visual tokens and of the other objects' tokens.
    0 when all of it is on the asked object. The finder aid keeps the best head of the batch (one
    head that looks up the named object is enough, as one induction head is for copying); per
    head, not per query, since among a dozen heads one looks at the right object of three by chance.
    """
    on_asked = heads[:, :, asked].sum(-1)
    on_other = heads[:, :, other].sum(-1)
    return -torch.log(on_asked / (on_asked + on_other + 1e-6) + 1e-6).mean(-1)


def separation_loss(heads: torch.Tensor, asked: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """The finder's term of the head-averaged attention, as the attention aid averages it."""
    return finder_terms(heads.mean(0, keepdim=True), asked, other)[0]


def it_is_ids(tok) -> list[list[int]]:
    """The tokens of "It is" opening an answer, or a sentence within one: a trace names the region after the first."""
    return [tok(t, add_special_tokens=False)["input_ids"] for t in ("It is", " It is")]


def region_stop_ids(tok) -> set[int]:
    """Tokens that end a region's words: the sentence's full stop, or the space and tag before a grounded box."""
    return {i for t in (".", " ", "<box>") for i in tok(t, add_special_tokens=False)["input_ids"]}


def region_span(a: list[int], it_is: list[list[int]], stops: set[int]) -> tuple[int, int] | None:
    """Where answer `a` says where the object is: from the word after its first "It is" up to the
    full stop or the box ("near the top-left corner"); None without an "It is"."""
    for pair in it_is:
        n = len(pair)
        for j in range(len(a) - n):
            if a[j:j + n] == pair:
                end = j + n
                while end < len(a) and a[end] not in stops:
                    end += 1
                return j + n, end
    return None


def before_where(a: list[int], span: tuple[int, int] | None) -> int:
    """How many positions predict an answer token until the trace has said where the object is
    (`span`, its region_span): through the one predicting the region's last word (" corner" of
    "near the top-left corner"). After that the region's words tell where to look, and a lookup by
    name is no longer needed. A whole answer without one."""
    return len(a) if span is None else span[1]


def shift_text_positions(position_ids: torch.Tensor, ids: torch.Tensor, vision_end: int, shifts: list[int]) -> torch.Tensor:
    """M-RoPE position ids ([3, batch, length]) with each row's tokens after its picture moved
    `shifts[row]` positions further from it; a row without a picture is left as it is."""
    moved = position_ids.clone()
    for row, k in enumerate(shifts):
        ends = (ids[row] == vision_end).nonzero()
        if len(ends) and k:
            moved[:, row, int(ends[0]) + 1:] += k
    return moved


def rope_positions(model, ids: torch.Tensor, mask: torch.Tensor, grid_thw: torch.Tensor | None, types: torch.Tensor | None) -> torch.Tensor:
    """The M-RoPE position ids the model would compute itself, across transformers versions (newer
    ones take the token types, older ones do not)."""
    import inspect

    rope = getattr(model.model, "get_rope_index", None) or model.get_rope_index
    args = {"input_ids": ids, "image_grid_thw": grid_thw, "attention_mask": mask}
    if "mm_token_type_ids" in inspect.signature(rope).parameters:
        args["mm_token_type_ids"] = types
    return rope(**args)[0]


class AuxHeads(torch.nn.Module):
    def __init__(self, vis_dim: int, hidden: int, grid: int, v: Vocabulary):
        super().__init__()
        self.colour = torch.nn.Linear(vis_dim, len(v.colours) + 1)
        self.shape = torch.nn.Linear(vis_dim, len(v.shapes) + 1)
        self.row = torch.nn.Linear(hidden, grid)
        self.col = torch.nn.Linear(hidden, grid)
        self.object_colour = torch.nn.Linear(vis_dim, len(v.colours))
        self.object_shape = torch.nn.Linear(vis_dim, len(v.shapes))
        self.object_word = torch.nn.Linear(vis_dim, len(v.words))


class Trainer:
    def __init__(self, run: Path, threads: int):
        from transformers import AutoImageProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

        torch.set_num_threads(threads)
        self.run = run
        self.cfg = json.loads((run / "pretrain.json").read_text(encoding="utf-8"))
        self.recipe = Recipe(self.cfg)
        self.vocab = Vocabulary(**self.cfg["vocabulary"])
        self.text_only = set(self.cfg["textOnlyTasks"])
        self.seed = int(self.cfg["seed"])
        self.init_dir = run / "init"
        if not (self.init_dir / "model.safetensors").is_file():
            self.build_init()
        latest = self.latest_checkpoint()
        source = latest if latest is not None else self.init_dir
        self.tok = AutoTokenizer.from_pretrained(str(self.init_dir))
        self.ip = AutoImageProcessor.from_pretrained(str(self.init_dir))
        self.model = Qwen2_5_VLForConditionalGeneration.from_pretrained(str(source), attn_implementation="eager")
        self.model.train()
        c = self.model.config
        text = getattr(c, "text_config", c)
        self.side = int(json.loads((self.init_dir / "ivgr.json").read_text())["imageSize"])
        self.merge = int(self.ip.merge_size)
        self.grid = self.side // (int(self.ip.patch_size) * self.merge)
        self.image_pad = self.tok.convert_tokens_to_ids("<|image_pad|>")
        self.pad_id = self.tok.convert_tokens_to_ids("<|endoftext|>")
        self.end_id = self.tok.convert_tokens_to_ids("<|im_end|>")
        self.user_start = self.tok("<|im_start|>user\n", add_special_tokens=False)["input_ids"]
        self.vision_end = self.tok.convert_tokens_to_ids("<|vision_end|>")
        self.stem_ends = {i for t, i in self.tok.get_vocab().items() if "?" in t}
        self.it_is = it_is_ids(self.tok)
        self.region_stops = region_stop_ids(self.tok)
        torch.manual_seed(self.seed)
        self.aux = AuxHeads(text.hidden_size, text.hidden_size, self.grid, self.vocab)
        params = list(self.model.parameters()) + list(self.aux.parameters())
        o = self.cfg["optimizer"]
        self.opt = torch.optim.AdamW(params, lr=o["learningRate"], betas=tuple(o["betas"]), weight_decay=o["weightDecay"])
        self.step = 0
        if latest is not None:
            state = torch.load(latest / STATE_FILE, weights_only=True)
            self.aux.load_state_dict(state["aux"])
            self.opt.load_state_dict(state["optimizer"])
            self.step = int(state["step"])
        data = run / "data"
        self.pools = [Pool(data, s["name"]) for s in self.recipe.stages]
        self.held = [Pool(data, f"{s['name']}-val") for s in self.recipe.stages]
        self.forward_kwargs = self.forward_extras()
        self.captured: dict = {}
        vis = self.model.model.visual
        vis.register_forward_hook(lambda _m, _i, out: self.captured.__setitem__("visual", out.pooler_output))
        self.stop = False

    # -- set-up ---------------------------------------------------------------------------------

    def build_init(self) -> None:
        from . import tiny

        tmp = self.run / "init.building"
        shutil.rmtree(tmp, ignore_errors=True)
        if self.cfg.get("init"):
            # Continue from a model folder: weights, tokenizer and size as they are.
            source = Path(self.cfg["init"])
            tmp.mkdir(parents=True)
            for name in (*MODEL_FILES, "model.safetensors"):
                if (source / name).is_file():
                    shutil.copy2(source / name, tmp / name)
            os.replace(tmp, self.init_dir)
            return
        tiny.build(self.run / "corpus.txt", tmp, self.seed, self.cfg["model"])
        ivgr = json.loads((tmp / "ivgr.json").read_text())
        ivgr["coordConvention"] = self.cfg["convention"]
        (tmp / "ivgr.json").write_text(json.dumps(ivgr, indent=2))
        os.replace(tmp, self.init_dir)

    def forward_extras(self) -> dict:
        import inspect

        return {"mm": "mm_token_type_ids" in inspect.signature(self.model.model.forward).parameters}

    def latest_checkpoint(self) -> Path | None:
        root = self.run / "checkpoints"
        steps = sorted(int(p.name) for p in root.glob("*") if p.name.isdigit() and (p / STATE_FILE).is_file()) if root.is_dir() else []
        return root / str(steps[-1]) if steps else None

    # -- batches --------------------------------------------------------------------------------

    def prompt_ids(self, q: dict) -> list[int]:
        question = q["question"]
        system = self.cfg.get("system")
        if q["task"] in ("trace", "match"):
            # A match question stands where a textual trace ends, so it is asked as one.
            system = self.cfg["traceSystem"]
            question = f"{question}\n{self.cfg['instructions'][q.get('stream', 'textual')]}"
        head = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
        vision = "" if q["task"] in self.text_only else "<|vision_start|><|image_pad|><|vision_end|>"
        text = f"{head}<|im_start|>user\n{vision}{question}<|im_end|>\n<|im_start|>assistant\n{q.get('prefix', '')}"
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        n = self.grid * self.grid
        out: list[int] = []
        for t in ids:
            out.extend([t] * n if t == self.image_pad else [t])
        return out

    def cell_labels(self, ex: Example) -> tuple[torch.Tensor, torch.Tensor, list[int], list[tuple[list[int], int, int, int]]]:
        """Per visual token: colour class, shape class (0: no object); the tokens of the asked object;
        and per object its tokens, colour, shape and word (-100 for an object without one)."""
        g, v = self.grid, self.vocab
        colour = torch.zeros(g * g, dtype=torch.long)
        shape = torch.zeros(g * g, dtype=torch.long)
        best = torch.zeros(g * g)
        target: list[int] = []
        objects: list[tuple[list[int], int, int, int]] = []
        asked = ex.question.get("objects", [ex.question["object"]])
        sx, sy = g / ex.width, g / ex.height
        for k, o in enumerate(ex.objects):
            x1, y1, x2, y2 = o["box"]
            bx1, by1, bx2, by2 = x1 * sx, y1 * sy, x2 * sx, y2 * sy
            cells: list[int] = []
            for r in range(max(0, int(by1)), min(g, int(math.ceil(by2)))):
                for c in range(max(0, int(bx1)), min(g, int(math.ceil(bx2)))):
                    cover = max(0.0, min(bx2, c + 1) - max(bx1, c)) * max(0.0, min(by2, r + 1) - max(by1, r))
                    i = r * g + c
                    if cover > 0.05:
                        cells.append(i)
                    if k in asked and cover > 0.05:
                        target.append(i)
                    if cover > max(0.2, float(best[i])):
                        best[i] = cover
                        colour[i] = v.colours.index(o["colour"]) + 1
                        shape[i] = v.shapes.index(o["shape"]) + 1
            if cells:
                word = v.words.index(o["word"]) if o.get("word") else -100
                objects.append((cells, v.colours.index(o["colour"]), v.shapes.index(o["shape"]), word))
        return colour, shape, target, objects

    def copy_pairs(self, p: list[int], a: list[int]) -> list[tuple[int, list[int]]]:
        """For each answer token that stands in the question's stem (its words up to the first "?",
        before any options), the position predicting it and where it stands in the question."""
        n = len(self.user_start)
        begin = max((k + n for k in range(len(p) - n + 1) if p[k:k + n] == self.user_start), default=len(p))
        if self.vision_end in p[begin:]:
            begin = p.index(self.vision_end, begin) + 1
        end = next((k + 1 for k in range(begin, len(p)) if p[k] in self.stem_ends or p[k] == self.end_id), len(p))
        pairs = []
        for j, t in enumerate(a[:-1]):
            src = [k for k in range(begin, end) if p[k] == t]
            if src:
                pairs.append((len(p) + j - 1, src))
        return pairs

    def batch(self, examples: list[Example]) -> dict:
        from PIL import Image

        images, rows, labels, starts, copies, befores, regions = [], [], [], [], [], [], []
        colours, shapes, targets, others, objects = [], [], [], [], []
        copying = self.cfg["aux"].get("copy", 0) > 0
        for ex in examples:
            p = self.prompt_ids(ex.question)
            a = self.tok(ex.question["answer"], add_special_tokens=False)["input_ids"] + [self.end_id]
            rows.append(p + a)
            labels.append([-100] * len(p) + a)
            starts.append(len(p))
            span = region_span(a, self.it_is, self.region_stops)
            befores.append(before_where(a, span))
            # A trace's region words, a few tokens among dozens the reference makes easy to predict.
            regions.append(span if ex.question["task"] == "trace" else None)
            copies.append(self.copy_pairs(p, a) if copying else [])
            if ex.image is None:
                targets.append([])
                others.append([])
                continue
            with Image.open(ex.image) as im:
                images.append(im.convert("RGB").resize((self.side, self.side), Image.BICUBIC))
            c, s, t, objs = self.cell_labels(ex)
            colours.append(c)
            shapes.append(s)
            targets.append(t)
            others.append(sorted({c for cells, *_ in objs for c in cells} - set(t)))
            base = (len(colours) - 1) * self.grid * self.grid
            objects.extend(([base + i for i in cells], *labels) for cells, *labels in objs)
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        lab = torch.full((len(rows), width), -100, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, (r, l) in enumerate(zip(rows, labels)):
            ids[i, : len(r)] = torch.tensor(r)
            lab[i, : len(l)] = torch.tensor(l)
            mask[i, : len(r)] = 1
        vis = self.ip(images=images, return_tensors="pt") if images else {"pixel_values": None, "image_grid_thw": None}
        empty = torch.zeros(0, dtype=torch.long)
        return {
            "ids": ids, "labels": lab, "mask": mask, "starts": starts, "images": len(images),
            "pixel_values": vis["pixel_values"], "grid_thw": vis["image_grid_thw"],
            "colour": torch.cat(colours) if colours else empty, "shape": torch.cat(shapes) if shapes else empty,
            "targets": targets, "others": others, "objects": objects, "copies": copies, "before_where": befores,
            "regions": regions,
        }

    def forward(self, b: dict, attentions: bool):
        kwargs = {}
        types = torch.zeros_like(b["ids"], dtype=torch.int32)
        types[b["ids"] == self.image_pad] = 1
        if self.forward_kwargs["mm"]:
            kwargs["mm_token_type_ids"] = types
        if b.get("shifts") and b["images"]:
            position = rope_positions(self.model, b["ids"], b["mask"], b["grid_thw"], types)
            kwargs["position_ids"] = shift_text_positions(position, b["ids"], self.vision_end, b["shifts"])
        return self.model(
            input_ids=b["ids"], attention_mask=b["mask"], pixel_values=b["pixel_values"], image_grid_thw=b["grid_thw"],
            use_cache=False, output_hidden_states=True, output_attentions=attentions, **kwargs,
        )

    # -- losses ---------------------------------------------------------------------------------

    def losses(self, b: dict) -> dict[str, torch.Tensor]:
        w = self.cfg["aux"]
        copying = w.get("copy", 0) > 0
        separating = w.get("separate", 0) > 0
        finding = w.get("find", 0) > 0
        out = self.forward(b, attentions=w["attention"] > 0 or separating or finding or copying)
        logits = out.logits[:, :-1].float()
        lm = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), b["labels"][:, 1:].reshape(-1), ignore_index=-100)
        parts = {"lm": lm}
        if w.get("region", 0) > 0:
            # Answer token k stands at start + k, predicted by logits position start + k - 1.
            at = [(i, p) for i, (start, span) in enumerate(zip(b["starts"], b["regions"])) if span
                  for p in range(start - 1 + span[0], start - 1 + span[1])]
            if at:
                rows, cols = (torch.tensor(c) for c in zip(*at))
                parts["region"] = F.cross_entropy(logits[rows, cols], b["labels"][:, 1:][rows, cols])
        if copying and any(b["copies"]):
            terms = []
            for i, pairs in enumerate(b["copies"]):
                if not pairs:
                    continue
                queries = torch.tensor([q for q, _ in pairs])
                sources = torch.zeros(len(pairs), b["ids"].shape[1])
                for r, (_, src) in enumerate(pairs):
                    sources[r, src] = 1
                # One head copying is enough (an induction head): the best head of layers 1 on.
                mass = torch.stack([(att[i][:, queries].float() * sources).sum(-1) for att in out.attentions[1:]])
                terms.append(-torch.log(mass.amax(dim=(0, 1)) + 1e-6))
            parts["copy"] = torch.cat(terms).mean()
        if b["images"] == 0:
            # Text only: nothing for the visual training aids to read.
            parts["total"] = lm + sum(w.get(k, 0) * v for k, v in parts.items() if k != "lm")
            return parts
        if w["dense"] > 0:
            v = self.captured["visual"].float()
            parts["dense"] = F.cross_entropy(self.aux.colour(v), b["colour"]) + F.cross_entropy(self.aux.shape(v), b["shape"])
        if (w.get("object", 0) > 0 or w.get("word", 0) > 0) and b["objects"]:
            # What an object's tokens say together, as attention reading them would: their mean names
            # the colour and the shape (a token inside a large object shows only a patch of colour), and
            # a sign's word (each of its tokens shows only part of it).
            v = self.captured["visual"].float()
            pooled = torch.stack([v[torch.tensor(cells)].mean(0) for cells, *_ in b["objects"]])
            oc, os_, ow = (torch.tensor(col) for col in zip(*(labels for _, *labels in b["objects"])))
            if w.get("object", 0) > 0:
                parts["object"] = F.cross_entropy(self.aux.object_colour(pooled), oc) + F.cross_entropy(self.aux.object_shape(pooled), os_)
            if w.get("word", 0) > 0 and bool((ow >= 0).any()):
                parts["word"] = F.cross_entropy(self.aux.object_word(pooled), ow, ignore_index=-100)
        img = b["ids"] == self.image_pad
        if w["position"] > 0:
            layer = out.hidden_states[min(len(out.hidden_states) - 1, int(self.cfg["positionLayer"]))]
            h = layer[img].float()
            cells = torch.arange(self.grid * self.grid).repeat(b["images"])
            parts["position"] = F.cross_entropy(self.aux.row(h), cells // self.grid) + F.cross_entropy(self.aux.col(h), cells % self.grid)
        if w["attention"] > 0 or separating or finding:
            terms, contrasts, finders = [], [], []
            for i, (start, target, rest) in enumerate(zip(b["starts"], b["targets"], b["others"])):
                if not target:
                    continue
                visual = img[i].nonzero().squeeze(-1)
                positions = visual[torch.tensor(target)]
                elsewhere = visual[torch.tensor(rest)] if rest else None
                # Every position that predicts an answer token looks at the object, as a trace does
                # while it describes it; averaged over heads, so some heads stay free for the text.
                queries = torch.arange(start - 1, int(b["mask"][i].sum()) - 1)
                if copying and b["copies"][i]:
                    # A position that copies from the question looks there instead.
                    copied = torch.tensor([q for q, _ in b["copies"][i]])
                    queries = queries[~torch.isin(queries, copied)]
                per_layer = []
                for att in out.attentions[1:]:
                    heads = att[i][:, queries].float()
                    if w["attention"] > 0:
                        terms.append(-torch.log(heads[:, :, positions].sum(-1).mean(0) + 1e-6).mean())
                    if separating and rest:
                        contrasts.append(separation_loss(heads, positions, elsewhere))
                    if finding and rest:
                        before = att[i][:, start - 1:start - 1 + b["before_where"][i]].float()
                        per_layer.append(finder_terms(before, positions, elsewhere))
                if per_layer:
                    finders.append(torch.stack(per_layer))
            if terms:
                parts["attention"] = torch.stack(terms).mean()
            if contrasts:
                parts["separate"] = torch.stack(contrasts).mean()
            if finders:
                parts["find"] = torch.stack(finders).mean(0).min()
        parts["total"] = lm + sum(w[k] * v for k, v in parts.items() if k != "lm")
        return parts

    # -- held-out scores ------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self) -> dict:
        self.model.eval()
        n = int(self.cfg["heldOut"])
        scores: dict[str, float] = {}
        losses = []
        for pool in self.held:
            by_task: dict[str, list[float]] = {}
            examples = [pool.example(i, q) for i in range(min(n, len(pool.items))) for q in range(len(pool.items[i]["questions"]))]
            for k in range(0, len(examples), 16):
                chunk = examples[k:k + 16]
                b = self.batch(chunk)
                out = self.forward(b, attentions=False)
                logits = out.logits[:, :-1].float()
                labels = b["labels"][:, 1:]
                for i, ex in enumerate(chunk):
                    m = labels[i] != -100
                    loss = F.cross_entropy(logits[i][m], labels[i][m])
                    losses.append(float(loss))
                    hits = (logits[i][m].argmax(-1) == labels[i][m]).float()
                    correct = bool(hits.all())
                    task = ex.question["task"]
                    if task == "trace":
                        # A trace is long: score the share of its tokens read right, per stream.
                        by_task.setdefault(f"trace.{ex.question['stream']}", []).append(float(hits.mean()))
                        continue
                    if task == "box":
                        by_task.setdefault("box.iou50", []).append(self.box_hit(ex, logits[i][m].argmax(-1)))
                    by_task.setdefault(task, []).append(1.0 if correct else 0.0)
            for task, v in by_task.items():
                scores[f"{pool.name}.{task}"] = sum(v) / len(v)
        self.model.train()
        scores["loss"] = sum(losses) / max(1, len(losses))
        return scores

    def box_hit(self, ex: Example, ids: torch.Tensor) -> float:
        """1 when the box read off the answer tokens overlaps the asked object with IoU >= 0.5."""
        import re

        text = self.tok.decode(ids.tolist(), skip_special_tokens=True)
        m = re.search(r"\[(\d+),(\d+),(\d+),(\d+)\]", text)
        if not m:
            return 0.0
        scale = (ex.width / 1000, ex.height / 1000) if self.cfg["convention"] == "qwen2-1000" else (1.0, 1.0)
        p = [float(v) * scale[i % 2] for i, v in enumerate(m.groups())]
        g = ex.objects[ex.question["object"]]["box"]
        iw = max(0.0, min(p[2], g[2]) - max(p[0], g[0]))
        ih = max(0.0, min(p[3], g[3]) - max(p[1], g[1]))
        inter = iw * ih
        union = (p[2] - p[0]) * (p[3] - p[1]) + (g[2] - g[0]) * (g[3] - g[1]) - inter
        return 1.0 if union > 0 and inter / union >= 0.5 else 0.0

    # -- checkpoints ----------------------------------------------------------------------------

    def save_model(self, folder: Path) -> None:
        from safetensors.torch import save_file

        tmp = folder.with_name(folder.name + ".saving")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in MODEL_FILES:
            if (self.init_dir / name).is_file():
                shutil.copy2(self.init_dir / name, tmp / name)
        state = {published_key(k): v.detach().contiguous() for k, v in self.model.state_dict().items() if k != "lm_head.weight"}
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        return tmp

    def checkpoint(self) -> None:
        folder = self.run / "checkpoints" / str(self.step)
        tmp = self.save_model(folder)
        torch.save({"aux": self.aux.state_dict(), "optimizer": self.opt.state_dict(), "step": self.step}, tmp / STATE_FILE)
        # The checkpoint index of src/run/checkpoints.ts; the batch of a step is a function of the
        # seed and the step, so the cursor is the step and there is no sampler state.
        (tmp / "worker-state.json").write_text(json.dumps({
            "version": 1, "step": self.step, "cursor": {"epoch": 0, "index": self.step}, "rng": [], "configHash": "",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "phase": "base", "trainer": "pretrain",
        }, indent=2) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        self.update_run_json()
        keep = int(self.cfg["keepCheckpoints"])
        root = self.run / "checkpoints"
        old = sorted(int(p.name) for p in root.glob("*") if p.name.isdigit())[:-keep]
        for s in old:
            shutil.rmtree(root / str(s), ignore_errors=True)

    def update_run_json(self) -> None:
        """The run list reads a run's progress from run.json; the launcher writes its status."""
        path = self.run / "run.json"
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return
        run["step"] = self.step
        run["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        tmp = path.with_name(f"run.json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def finish(self) -> None:
        folder = self.run / "model"
        tmp = self.save_model(folder)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)

    # -- the loop -------------------------------------------------------------------------------

    def examples_for(self, step: int) -> list[Example]:
        """The step's batch, a function of seed and step alone, so a resumed run draws the same data."""
        rng = random.Random(self.seed * 1_000_003 + step)
        k = self.recipe.stage_at(step)
        replay = float(self.recipe.stages[k].get("replay", 0.0))
        out = []
        for _ in range(int(self.cfg["batchSize"])):
            pool = self.pools[rng.randrange(k)] if k > 0 and rng.random() < replay else self.pools[k]
            out.append(pool.sample(rng))
        return out

    def write_metrics(self, record: dict) -> None:
        with open(self.run / "events" / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def train(self) -> int:
        total = self.recipe.total
        every_eval = int(self.cfg["evalEvery"])
        every_ckpt = int(self.cfg["checkpointEvery"])
        started = time.perf_counter()
        first = self.step
        jitter = int(self.cfg.get("positionJitter", 0))
        log = lambda text: print(text, file=sys.stderr, flush=True)
        log(f"pretrain: {self.run} from step {self.step} of {total} ({sum(p.numel() for p in self.model.parameters()) / 1e6:.2f}M parameters)")
        if self.step == 0 and every_eval:
            self.record(self.evaluate(), {}, 0.0, 0.0, 0.0)
        while self.step < total:
            if self.stop:
                self.checkpoint()
                log(f"pretrain: paused at step {self.step}; resume with 'ivgr resume {self.run}'")
                return PAUSED_EXIT
            t0 = time.perf_counter()
            lr = self.recipe.lr_at(self.step)
            for g in self.opt.param_groups:
                g["lr"] = lr
            b = self.batch(self.examples_for(self.step))
            if jitter:
                # Per question and step, so a lookup of the picture by name must hold at every distance from it.
                rng = random.Random(self.seed * 7_000_003 + self.step)
                b["shifts"] = [rng.randint(0, jitter) for _ in b["starts"]]
            parts = self.losses(b)
            parts["total"].backward()
            norm = float(torch.nn.utils.clip_grad_norm_(list(self.model.parameters()) + list(self.aux.parameters()), float(self.cfg["optimizer"]["gradClip"])))
            self.opt.step()
            self.opt.zero_grad(set_to_none=True)
            self.step += 1
            dt = time.perf_counter() - t0
            held = self.evaluate() if every_eval and (self.step % every_eval == 0 or self.step == total) else {}
            self.record(held, {k: float(v.detach()) for k, v in parts.items()}, norm, lr, dt)
            rate = (time.perf_counter() - started) / max(1, self.step - first)
            stage = self.recipe.stages[self.recipe.stage_at(self.step - 1)]["name"]
            if self.step % 10 == 0 or held:
                eta = (total - self.step) * rate
                shown = " ".join(f"{k} {v:.3f}" for k, v in parts.items())
                log(f"step {self.step}/{total} [{stage}] {shown} lr {lr:.2e} {rate:.2f} s/step eta {eta / 60:.0f} min")
            if held:
                log("  held-out " + " ".join(f"{k} {v:.2f}" for k, v in sorted(held.items())))
            if every_ckpt and self.step % every_ckpt == 0 and self.step < total:
                self.checkpoint()
        self.checkpoint()
        self.finish()
        log(f"pretrain: done; model in {self.run / 'model'}")
        return 0

    def record(self, held: dict, parts: dict, norm: float, lr: float, dt: float) -> None:
        rec = {
            "v": 1, "step": self.step, "time": time.time(), "reward": {}, "terms": {}, "accuracy": {},
            "kl": 0.0, "clipFraction": 0.0, "loss": parts.get("lm", 0.0), "gradNorm": norm, "responseLength": {},
            "tokensPerSecond": 0.0, "phases": {"update": dt}, "highQualityGrounded": 0,
            "pretrain": {"stage": self.recipe.stages[self.recipe.stage_at(max(0, self.step - 1))]["name"], "learningRate": lr, "losses": parts},
        }
        if held:
            rec["perception"] = held
        self.write_metrics(rec)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ivgr_engine.pretrain", description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True, type=Path, help="pretraining run folder prepared by 'ivgr pretrain'")
    p.add_argument("--threads", type=int, default=int(os.environ.get("IVGR_THREADS", "1")))
    args = p.parse_args(argv)
    if not (args.run / "pretrain.json").is_file():
        print(f"pretrain: {args.run} has no pretrain.json; create the run with 'ivgr pretrain <config>'", file=sys.stderr)
        return 2
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    (args.run / "events").mkdir(parents=True, exist_ok=True)
    trainer = Trainer(args.run, args.threads)

    def on_signal(_sig, _frame):
        trainer.stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return trainer.train()


if __name__ == "__main__":
    sys.exit(main())

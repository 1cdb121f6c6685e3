"""The training aids' labels: what each visual token and each object is told to show."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import torch

from ivgr_engine.pretrain import (
    Example,
    Trainer,
    Vocabulary,
    before_where,
    finder_terms,
    it_is_ids,
    region_span,
    region_stop_ids,
    separation_loss,
)

# Classes are numbered by the vocabulary pretrain.json lists, here a small one of this test's own.
VOCAB = Vocabulary(colours=["red", "blue"], shapes=["star", "sign"], words=["CAT", "MAP"])


def labels(objects: list[dict], asked: int):
    ex = Example(Path("scene.png"), 224, 224, objects, {"object": asked})
    return Trainer.cell_labels(SimpleNamespace(grid=8, vocab=VOCAB), ex)


def test_a_sign_is_labelled_with_its_word_and_other_objects_with_none():
    sign = {"colour": "blue", "shape": "sign", "box": [0, 0, 56, 56], "word": "MAP"}
    star = {"colour": "red", "shape": "star", "box": [112, 112, 168, 168]}
    colour, shape, target, objects = labels([sign, star], asked=0)
    (sign_cells, sc, ss, sw), (star_cells, rc, rs, rw) = objects
    assert sign_cells == [0, 1, 8, 9]
    assert (sc, ss, sw) == (1, 1, 1)
    assert star_cells == [36, 37, 44, 45]
    assert (rc, rs, rw) == (0, 0, -100)
    # The asked object's tokens are where the attention aid points.
    assert target == sign_cells
    assert int(colour[0]) == 2 and int(shape[36]) == 1
    assert int(colour[63]) == 0


def test_the_copy_aid_points_each_copied_answer_token_at_its_place_in_the_question_stem():
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(Path(__file__).resolve().parents[2] / "models" / "ivgr-tiny")
    ns = SimpleNamespace(
        user_start=tok("<|im_start|>user\n", add_special_tokens=False)["input_ids"],
        vision_end=tok.convert_tokens_to_ids("<|vision_end|>"),
        stem_ends={i for t, i in tok.get_vocab().items() if "?" in t},
        end_id=tok.convert_tokens_to_ids("<|im_end|>"),
    )
    prompt = (
        "<|im_start|>system\nLook for the small star.<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>"
        "What colour is the small diamond? A. red B. blue C. yellow D. orange<|im_end|>\n<|im_start|>assistant\n"
    )
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    a = tok("<think>I look for the small diamond. It is yellow.</think>", add_special_tokens=False)["input_ids"] + [ns.end_id]
    pairs = Trainer.copy_pairs(ns, p, a)
    copied = {tok.convert_ids_to_tokens(a[q - len(p) + 1]): [tok.convert_ids_to_tokens(p[k]) for k in src] for q, src in pairs}
    # The asked object is copied from the question; the system prompt's "star" and the options' "yellow" are not sources.
    assert copied["Ġdiamond"] == ["Ġdiamond"]
    assert copied["Ġsmall"] == ["Ġsmall"]
    assert "Ġyellow" not in copied and "Ġlook" not in copied
    for q, src in pairs:
        assert all(p[k] == a[q - len(p) + 1] for k in src)


def test_the_separation_aid_pays_for_the_asked_object_against_the_others_not_for_looking_at_objects():
    asked, other = torch.tensor([0, 1]), torch.tensor([2, 3])

    def loss(row: list[float]) -> float:
        # Two heads, one answer position, six keys: two asked-object tokens, two of another object, two of text.
        heads = torch.tensor([[row], [row]])
        return float(separation_loss(heads, asked, other))

    assert loss([0.5, 0.5, 0, 0, 0, 0]) < 1e-4
    # Looking at both objects alike costs log 2, however much of the attention goes to objects.
    assert math.isclose(loss([0.25, 0.25, 0.25, 0.25, 0, 0]), math.log(2), rel_tol=1e-3)
    assert math.isclose(loss([0.05, 0.05, 0.05, 0.05, 0.4, 0.4]), math.log(2), rel_tol=1e-3)
    # More on the other object costs more.
    assert loss([0.1, 0.1, 0.4, 0.4, 0, 0]) > loss([0.25, 0.25, 0.25, 0.25, 0, 0])


def test_the_finder_aid_scores_each_head_so_one_head_that_looks_up_the_object_meets_it():
    asked, other = torch.tensor([0, 1]), torch.tensor([2, 3])
    finder = [0.5, 0.5, 0, 0, 0, 0]
    spread = [0.25, 0.25, 0.25, 0.25, 0, 0]
    wrong = [0, 0, 0.5, 0.5, 0, 0]
    # Two heads, two answer positions: one head finds the object at both, the other spreads its look.
    terms = finder_terms(torch.tensor([[finder, finder], [spread, spread]]), asked, other)
    assert terms.shape == (2,)
    assert float(terms[0]) < 1e-4 and math.isclose(float(terms[1]), math.log(2), rel_tol=1e-3)
    # A head that is right at one position and wrong at the other is no finder: chance gives that.
    lucky = finder_terms(torch.tensor([[finder, wrong]]), asked, other)
    assert float(lucky[0]) > 5
    # Averaging over heads, as the separation aid does, leaves the finder unrewarded.
    assert float(separation_loss(torch.tensor([[finder], [wrong]]), asked, other)) > 0.6


def test_the_region_words_and_the_finder_aid_end_where_a_trace_has_said_where_the_object_is():
    from transformers import AutoTokenizer

    root = Path(__file__).resolve().parents[2]
    tok = AutoTokenizer.from_pretrained(root / "models" / "ivgr-tiny")
    it_is, stops = it_is_ids(tok), region_stop_ids(tok)
    words = lambda ids, span: tok.decode(ids[span[0]:span[1]]).strip()
    trace = tok("<think>I look for the small red object. It is in the right middle. It is a circle.</think>", add_special_tokens=False)["input_ids"]
    assert words(trace, region_span(trace, it_is, stops)) == "in the right middle"
    # Positions start-1 .. start+n-2 predict trace[0 .. n-1]: the last one predicts the region's last word.
    n = before_where(trace, region_span(trace, it_is, stops))
    assert tok.decode(trace[n - 1]).strip() == "middle"
    grounded = tok("<think>I look for the small red object. It is near the top-left corner <box>[1,2,3,4]</box>. It is red.</think>",
                   add_special_tokens=False)["input_ids"]
    assert words(grounded, region_span(grounded, it_is, stops)) == "near the top-left corner"
    # An answer stated as a sentence is looked up until its value; a bare value throughout.
    sentence = tok("It is yellow.", add_special_tokens=False)["input_ids"]
    assert tok.decode(sentence[before_where(sentence, region_span(sentence, it_is, stops)) - 1]).strip() == "yellow"
    bare = tok("yellow", add_special_tokens=False)["input_ids"]
    assert region_span(bare, it_is, stops) is None
    assert before_where(bare, region_span(bare, it_is, stops)) == len(bare)

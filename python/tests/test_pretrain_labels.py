"""The training aids' labels: what each visual token and each object is told to show."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from ivgr_engine.pretrain import COLOURS, SHAPES, WORDS, Example, Trainer


def labels(objects: list[dict], asked: int):
    ex = Example(Path("scene.png"), 224, 224, objects, {"object": asked})
    return Trainer.cell_labels(SimpleNamespace(grid=8), ex)


def test_a_sign_is_labelled_with_its_word_and_other_objects_with_none():
    sign = {"colour": "blue", "shape": "sign", "box": [0, 0, 56, 56], "word": "MAP"}
    star = {"colour": "red", "shape": "star", "box": [112, 112, 168, 168]}
    colour, shape, target, objects = labels([sign, star], asked=0)
    (sign_cells, sc, ss, sw), (star_cells, rc, rs, rw) = objects
    assert sign_cells == [0, 1, 8, 9]
    assert (sc, ss, sw) == (COLOURS.index("blue"), SHAPES.index("sign"), WORDS.index("MAP"))
    assert star_cells == [36, 37, 44, 45]
    assert (rc, rs, rw) == (COLOURS.index("red"), SHAPES.index("star"), -100)
    # The asked object's tokens are where the attention aid points.
    assert target == sign_cells
    assert int(colour[0]) == COLOURS.index("blue") + 1 and int(shape[36]) == SHAPES.index("star") + 1
    assert int(colour[63]) == 0

"""The TRL dataset of a run: `<run>/trl/train.jsonl` (rows written by `ivgr train` / `ivgr trl`,
src/trl/trl-rows.ts) as a `datasets.Dataset` whose images are decoded when a row is read."""

from __future__ import annotations

import json
from pathlib import Path

FIELDS = ("question", "stream", "prompt", "image", "input", "record")


def read_rows(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not valid JSON: {e}") from None
            missing = [k for k in FIELDS if k not in row]
            if missing:
                raise ValueError(f"{path}:{n}: field {missing[0]!r} is missing (a row has {', '.join(FIELDS)})")
            if not Path(row["image"]).is_file():
                raise ValueError(f"{path}:{n}: field 'image': image file not found: {row['image']}")
            # A JSON string: records differ in their optional fields, and the scorer reads JSON.
            # `stratum` is written only for answer-balanced runs.
            rows.append({**{k: row[k] for k in FIELDS}, "record": json.dumps(row["record"]), "stratum": row.get("stratum")})
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def prompt_dataset(rows: list[dict]):
    import datasets

    return datasets.Dataset.from_list([{k: r[k] for k in FIELDS} for r in rows]).cast_column("image", datasets.Image())

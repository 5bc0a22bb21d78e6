"""Write one table (columns of values) in every format the readers take, all offline."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

FORMATS = ("parquet", "jsonl", "json", "csv", "saved", "saved_dict")


def _rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def write_table(folder: Path, stem: str, columns: dict[str, list[Any]], fmt: str) -> str:
    """``columns`` written as ``folder/stem.<fmt>`` (or a saved folder); returns the spec to read.

    ``saved_dict`` is a ``DatasetDict`` with splits ``train`` (the rows) and ``test`` (the first
    row only), so its spec carries ``@train``.
    """
    import datasets

    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        path = folder / f"{stem}.jsonl"
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _rows(columns)), encoding="utf-8"
        )
        return str(path)
    if fmt == "json":
        path = folder / f"{stem}.json"
        path.write_text(json.dumps(_rows(columns), ensure_ascii=False), encoding="utf-8")
        return str(path)
    if fmt == "csv":
        path = folder / f"{stem}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns)
            writer.writerows(zip(*columns.values(), strict=True))
        return str(path)
    ds = datasets.Dataset.from_dict(columns)
    if fmt == "parquet":
        path = folder / f"{stem}.parquet"
        ds.to_parquet(str(path))
        return str(path)
    path = folder / stem
    if fmt == "saved":
        ds.save_to_disk(str(path))
        return str(path)
    assert fmt == "saved_dict", fmt
    datasets.DatasetDict(train=ds, test=ds.select([0])).save_to_disk(str(path))
    return f"{path}@train"

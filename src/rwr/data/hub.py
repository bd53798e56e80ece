"""Rows of a data set through `datasets`: a hub id (config, revision, split) or a local file of the same schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rwr.io import DataError

_LOCAL = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}


def load_rows(path: str, split: str, name: str = "", revision: str = "") -> Any:
    """A `datasets.Dataset`. A local path may contain '{split}' (one file per split)."""
    import datasets

    local = Path(path.replace("{split}", split))
    if local.suffix in _LOCAL:  # hub ids never end in a file extension
        if not local.exists():
            raise DataError(f"{local}: file not found")
        return datasets.load_dataset(_LOCAL[local.suffix], data_files=str(local), split="train")
    kwargs = {"revision": revision} if revision else {}
    return datasets.load_dataset(path, name or None, split=split, **kwargs)


def train_test(path: str, train_split: str, test_split: str, name: str = "", revision: str = "",
               test_fraction: float = 0.1, seed: int = 42) -> tuple[Any, Any]:
    """(train, test); test_split '' splits the train split as HELMET does for nlu (train_test_split, seed 42)."""
    train = load_rows(path, train_split, name, revision)
    if test_split:
        return train, load_rows(path, test_split, name, revision)
    parts = train.train_test_split(test_size=test_fraction, seed=seed)
    return parts["train"], parts["test"]

"""Which files of HELMET's data archive a length needs, and copying them (unchanged) into data/raw/helmet/.

HELMET ships one tarball (data.tar.gz, ~11 GB, ~34 GB unpacked); only the files of the configured length are
read. The table follows HELMET's configs/{rag,recall}_short.yaml (8k-64k) and the length ladder of its README
(k = passages for RAG, key-value pairs for json_kv); RULER files are named validation_<length>.jsonl.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rwr.io import DataError

# length -> (RAG passages k, json_kv pairs k)
LADDER = {4096: (20, 50), 8192: (50, 105), 16384: (105, 220), 32768: (220, 440), 65536: (440, 900),
          131072: (1000, 1800)}


def helmet_manifest(length: int) -> dict[str, str]:
    """Our file name under data/raw/helmet/ -> the path inside HELMET's data/ directory."""
    if length not in LADDER:
        raise DataError(f"HELMET has no files for length {length}; known: {sorted(LADDER)}")
    k, kv = LADDER[length]
    return {
        "kilt_nq.jsonl": f"kilt/nq-dev-multikilt_1000_k{k}_dep6.jsonl",
        "kilt_nq.demos.jsonl": "kilt/nq-train-multikilt_1000_k3_dep6.jsonl",
        "kilt_triviaqa.jsonl": f"kilt/triviaqa-dev-multikilt_1000_k{k}_dep6.jsonl",
        "kilt_triviaqa.demos.jsonl": "kilt/triviaqa-train-multikilt_1000_k3_dep6.jsonl",
        "kilt_hotpotqa.jsonl": f"kilt/hotpotqa-dev-multikilt_1000_k{k}_dep3.jsonl",
        "kilt_hotpotqa.demos.jsonl": "kilt/hotpotqa-train-multikilt_1000_k3_dep3.jsonl",
        "kilt_popqa_3.jsonl": f"kilt/popqa_test_1000_k{k}_dep6.jsonl",
        "kilt_popqa_3.demos.jsonl": "kilt/popqa_test_1000_k3_dep6.jsonl",
        "json_kv.jsonl": f"json_kv/test_k{kv}_dep6.jsonl",
        "ruler_niah_mk_2.jsonl": f"ruler/niah_multikey_2/validation_{length}.jsonl",
        "ruler_niah_mk_3.jsonl": f"ruler/niah_multikey_3/validation_{length}.jsonl",
        "ruler_niah_mv.jsonl": f"ruler/niah_multivalue/validation_{length}.jsonl",
    }


def copy_helmet_files(src_dir: str | Path, length: int, out: Path, tasks: list[str] | None = None) -> dict[str, str]:
    """Copy the length's files (for `tasks`, default all) into `out`; returns {our name: source path}."""
    src_dir = Path(src_dir)
    copied = {}
    for name, rel in helmet_manifest(length).items():
        task = name.split(".")[0]
        if tasks is not None and task not in tasks:
            continue
        src = src_dir / rel
        if not src.exists():
            raise DataError(f"{src}: HELMET file missing (extract it from HELMET's data.tar.gz; see README)")
        shutil.copyfile(src, out / name)
        copied[name] = str(src)
    return copied

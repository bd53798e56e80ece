"""The HELMET and short-task parts of the `data` stage: data/raw/helmet/ and data/raw/short/.

synthetic (mini): rwr.data.helmet_synth / short_synth in the real formats. real (paper): HELMET's archive
files of the configured length copied unchanged; the ICL and short-task sets read through `datasets` (hub
ids or local files) and written as JSONL ({text, label} for ICL, the sets' own fields for short tasks).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from rwr.config import HELMET_TASKS, SHORT_TASKS, DataConfig
from rwr.data import helmet_synth as H
from rwr.data.helmet_files import copy_helmet_files
from rwr.data.hub import load_rows, train_test
from rwr.data.short_synth import short_rows
from rwr.io import DataError, write_json, write_jsonl

ICL_TASKS = [t for t in HELMET_TASKS if t.startswith("icl_")]
# HELMET data.py::load_icl num_labels
ICL_NUM_LABELS = {"icl_trec_coarse": 6, "icl_trec_fine": 50, "icl_banking77": 77, "icl_clinic150": 151, "icl_nlu": 68}
SHORT_FIELDS = {"samsum": ("id", "dialogue", "summary"), "rte": ("sentence1", "sentence2", "label", "idx"),
                "gsm8k": ("question", "answer"), "nq": ("question", "answer")}


def write_helmet_synthetic(cfg: DataConfig, seed: int, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    stats: dict[str, Any] = {}
    for task in HELMET_TASKS:
        rng = random.Random(f"{seed}-helmet-{task}")
        if task.startswith("kilt_"):
            depths = 1 if cfg.helmet_rag_depths < 1 else cfg.helmet_rag_depths
            n = write_jsonl(out / f"{task}.jsonl", H.rag_rows(rng, task, cfg.helmet_rag_questions, depths,
                                                             cfg.helmet_rag_passages))
            write_jsonl(out / f"{task}.demos.jsonl", H.rag_demo_rows(rng, task, cfg.helmet_rag_demo_rows))
        elif task == "json_kv":
            n = write_jsonl(out / "json_kv.jsonl", H.json_kv_rows(rng, cfg.helmet_recall_rows, cfg.helmet_kv_pairs))
        elif task.startswith("ruler_"):
            n = write_jsonl(out / f"{task}.jsonl", H.ruler_rows(rng, task, cfg.helmet_recall_rows,
                                                                cfg.helmet_ruler_sentences))
        else:
            labels = cfg.helmet_icl_labels.get(task, ICL_NUM_LABELS[task])
            train, test = H.icl_rows(rng, labels, cfg.helmet_icl_train_per_label, cfg.helmet_icl_test)
            write_jsonl(out / f"{task}.train.jsonl", train)
            n = write_jsonl(out / f"{task}.test.jsonl", test)
            write_json(out / f"{task}.meta.json", {"num_labels": labels})
        stats[f"helmet_{task}"] = n
    return stats


def write_short_synthetic(cfg: DataConfig, seed: int, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    return {f"short_{t}": write_jsonl(out / f"{t}.jsonl", short_rows(random.Random(f"{seed}-short-{t}"), t,
                                                                     cfg.short_rows)) for t in SHORT_TASKS}


def _icl_num_labels(ds: Any, field: str, task: str) -> int:
    feature = ds.features.get(field)
    names = getattr(feature, "names", None)
    return len(names) if names else ICL_NUM_LABELS[task]


def write_helmet_real(cfg: DataConfig, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    if not cfg.real_helmet_dir:
        raise DataError("params: data.real_helmet_dir is empty; point it at HELMET's extracted data/ directory")
    copied = copy_helmet_files(cfg.real_helmet_dir, cfg.helmet_length, out)
    stats: dict[str, Any] = {"helmet_length": cfg.helmet_length, "helmet_files": len(copied)}
    for task, src in cfg.real_icl_sources.items():
        train, test = train_test(src.path, src.train_split, src.test_split, src.name, src.revision, src.test_fraction)
        for split, ds in (("train", train), ("test", test)):
            rows = ({"text": str(r[src.text_field]), "label": int(r[src.label_field])} for r in ds)
            stats[f"helmet_{task}_{split}"] = write_jsonl(out / f"{task}.{split}.jsonl", rows)
        write_json(out / f"{task}.meta.json", {"num_labels": _icl_num_labels(train, src.label_field, task),
                                               "source": src.path, "revision": src.revision})
    (out / "manifest.json").write_text(json.dumps(copied, indent=2) + "\n")
    return stats


def write_short_real(cfg: DataConfig, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    stats: dict[str, Any] = {}
    for task, src in cfg.real_short_sources.items():
        ds = load_rows(src.path, src.split, src.name, src.revision)
        missing = [f for f in SHORT_FIELDS[task] if f not in ds.column_names and f not in ("id", "idx")]
        if missing:
            raise DataError(f"{src.path}: {task} source lacks column(s) {missing}")
        n = min(cfg.real_short_limit, len(ds)) if cfg.real_short_limit else len(ds)
        stats[f"short_{task}"] = write_jsonl(out / f"{task}.jsonl", (dict(r) for r in ds.select(range(n))))
    return stats

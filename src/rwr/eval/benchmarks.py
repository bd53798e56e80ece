"""Benchmarks as lists of uniform evaluation items, read from their real file formats under data/raw/."""

from __future__ import annotations

from pathlib import Path

from rwr.config import EvaluateConfig
from rwr.data.longmemeval import READER_DIRECT, is_abstention, load_longmemeval, session_blocks
from rwr.data.orca import load_orca
from rwr.eval.helmet import load_helmet
from rwr.eval.items import EvalItem
from rwr.eval.short import load_short
from rwr.infer.prompt import ContextPrompt, plain_prompt

__all__ = ["BENCHMARK_FILES", "EvalItem", "benchmark_path", "load_benchmark", "longmemeval_items"]

BENCHMARK_FILES = {
    "orca_dev": "orca_dev.jsonl",
    "longmemeval_oracle": "longmemeval_oracle.json",
    "longmemeval_s": "longmemeval_s.json",
    "longmemeval_m": "longmemeval_m.json",
    "helmet": "helmet",
    "short": "short",
}


def benchmark_path(raw_dir: str | Path, name: str) -> Path:
    if name not in BENCHMARK_FILES:
        raise ValueError(f"unknown benchmark {name!r}; known: {sorted(BENCHMARK_FILES)}")
    return Path(raw_dir) / BENCHMARK_FILES[name]


# READER_DIRECT is "<intro>{history}<date label>{date}<question label>{question}<cue>".
_INTRO, _DATE, _QUESTION, _CUE = READER_DIRECT.split("{}")


def longmemeval_prompt(x: dict, history_format: str = "json") -> ContextPrompt:
    """The official direct reader prompt with the sessions (sorted by date) as the context units."""
    return ContextPrompt(_INTRO, tuple(session_blocks(x, history_format)), "",
                         f"{_DATE}{x['question_date']}{_QUESTION}{x['question']}", _CUE)


def longmemeval_items(path: str | Path, history_format: str = "json") -> list[EvalItem]:
    return [EvalItem(x["question_id"], "longmemeval", longmemeval_prompt(x, history_format), [x["answer"]],
                     question=x["question"], question_type=x["question_type"], abstention=is_abstention(x))
            for x in load_longmemeval(path)]


def load_benchmark(name: str, path: str | Path, cfg: EvaluateConfig) -> list[EvalItem]:
    """Items of benchmark `name` from `path` (a file, or a directory for helmet and short)."""
    if name == "orca_dev":
        return [EvalItem(r["id"], "orca_dev", plain_prompt(r["question"], r.get("system_prompt", "")),
                         [r["response"]], question=r["question"]) for r in load_orca(path)]
    if name.startswith("longmemeval"):
        return longmemeval_items(path, cfg.history_format)
    if name == "helmet":
        return load_helmet(path, cfg.helmet)
    if name == "short":
        return load_short(path, cfg.short)
    raise ValueError(f"unknown benchmark {name!r}; known: {sorted(BENCHMARK_FILES)}")

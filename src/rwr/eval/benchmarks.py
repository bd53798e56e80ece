"""Benchmarks as lists of uniform evaluation items, read from their real file formats."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rwr.data.longmemeval import is_abstention, load_longmemeval, reader_prompt, render_history
from rwr.data.orca import load_orca


@dataclass
class EvalItem:
    id: str
    question: str
    """The full question text (context + query), ending with the answer cue, as in an SFT record."""
    answer: str
    question_type: str = ""
    abstention: bool = False
    system_prompt: str = ""


BENCHMARK_FILES = {
    "orca_dev": "orca_dev.jsonl",
    "longmemeval_oracle": "longmemeval_oracle.json",
    "longmemeval_s": "longmemeval_s.json",
}


def benchmark_path(raw_dir: str | Path, name: str) -> Path:
    if name not in BENCHMARK_FILES:
        raise ValueError(f"unknown benchmark {name!r}; known: {sorted(BENCHMARK_FILES)}")
    return Path(raw_dir) / BENCHMARK_FILES[name]


def load_benchmark(name: str, path: str | Path, history_format: str = "json", tokenizer=None,
                   max_history_tokens: int = 0) -> list[EvalItem]:
    """Items of benchmark `name` from `path`. LongMemEval histories longer than `max_history_tokens` keep
    their front, as the official reader truncates them."""
    if name == "orca_dev":
        return [EvalItem(r["id"], r["question"], r["response"], system_prompt=r.get("system_prompt", ""))
                for r in load_orca(path)]
    if name.startswith("longmemeval"):
        items = []
        for x in load_longmemeval(path):
            history = render_history(x, history_format)
            if max_history_tokens and tokenizer is not None:
                ids = tokenizer(history, add_special_tokens=False)["input_ids"]
                if len(ids) > max_history_tokens:
                    history = tokenizer.decode(ids[:max_history_tokens])
            items.append(EvalItem(x["question_id"], reader_prompt(x, history), x["answer"], x["question_type"],
                                  is_abstention(x)))
        return items
    raise ValueError(f"unknown benchmark {name!r}")

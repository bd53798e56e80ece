"""The `evaluate` stage: one model on one benchmark, in each of its answer modes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

from rwr.config import BaseConfig, EvaluateConfig
from rwr.eval.benchmarks import load_benchmark
from rwr.eval.run import MODES, predict, score
from rwr.io import atomic_dir, write_json, write_jsonl
from rwr.models.build import load_model, prepare_backend
from rwr.tracking import StageRun

log = logging.getLogger("rwr")


def modes_for(model: str, cfg: EvaluateConfig) -> list[str]:
    modes = cfg.modes.get(model, ["direct"])
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise ValueError(f"params.yaml: evaluate.modes.{model} has unknown mode(s) {bad}; known: {list(MODES)}")
    return modes


def evaluate(model_name: str, benchmark: str, cfg: EvaluateConfig, base: BaseConfig, model_dir: Path,
             data_path: Path, out_dir: Path, run: StageRun) -> dict[str, Any]:
    """Writes out_dir/<mode>/{predictions.jsonl, metrics.json}; returns {mode: metrics}."""
    modes = modes_for(model_name, cfg)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    run.set_tags(prepare_backend(torch.device(device)))
    model, tok = load_model(model_dir, device)
    model.eval()
    max_hist = max(0, cfg.max_prompt_tokens - 200) if cfg.max_prompt_tokens else 0
    items = load_benchmark(benchmark, data_path, cfg.history_format, tok, max_hist)
    if cfg.limit:
        items = items[: cfg.limit]
    results: dict[str, Any] = {}
    with atomic_dir(out_dir) as tmp:
        for mode in modes:
            log.info("%s on %s (%d items), mode %s", model_name, benchmark, len(items), mode)
            rows = predict(model, tok, items, mode, cfg, base.format)
            metrics = score(benchmark, rows)
            write_jsonl(tmp / mode / "predictions.jsonl", rows)
            write_json(tmp / mode / "metrics.json", metrics)
            results[mode] = metrics
            run.log_metrics({mode: metrics})
            run.log_table(rows[:50], f"tables/{mode}_predictions.json")
    return results

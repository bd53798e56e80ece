"""The `evaluate` stage: one model on each of its benchmarks, in each of its answer modes, over `rounds` rounds."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import torch

from rwr.config import MODES, BaseConfig, EvaluateConfig, to_dict
from rwr.eval.benchmarks import benchmark_path, load_benchmark
from rwr.eval.items import EvalItem
from rwr.eval.lme_judge import LLMJudge, make_judge
from rwr.eval.metrics import combine_rounds, timing_scores
from rwr.eval.run import fit_items, predict
from rwr.eval.score import aggregate, score_rows
from rwr.fingerprint import dir_fingerprint, fingerprint
from rwr.infer.modes import Engine, ModelEngine
from rwr.io import atomic_dir, read_jsonl, write_json, write_jsonl
from rwr.models.build import load_model, prepare_backend
from rwr.tracking import StageRun, project_root

log = logging.getLogger("rwr")

TABLE_COLUMNS = ("round", "id", "task", "question_type", "hypothesis", "answers", "score", "prompt_tokens",
                 "new_tokens", "calls", "output")


def modes_for(model: str, benchmark: str, cfg: EvaluateConfig) -> list[str]:
    """The model's modes; 'ssa' only on the benchmarks listed in ssa_benchmarks."""
    modes = cfg.modes.get(model, ["direct"])
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise ValueError(f"params.yaml: evaluate.modes.{model} has unknown mode(s) {bad}; known: {list(MODES)}")
    return [m for m in modes if m != "ssa" or benchmark in cfg.ssa_benchmarks]


def limit_per_task(items: list[EvalItem], limit: int, by_type: bool = False) -> list[EvalItem]:
    """The first `limit` items of each task (and of each question type within it when `by_type`)."""
    if not limit:
        return items
    seen: dict[tuple[str, str], int] = {}
    out = []
    for it in items:
        key = (it.task, it.question_type if by_type else "")
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= limit:
            out.append(it)
    return out


def generations_path(root: Path, model_name: str, benchmark: str, mode: str, model_key: str,
                     items: list[EvalItem], cfg: EvaluateConfig, base: BaseConfig) -> Path:
    """Where the unjudged outputs of one (model, benchmark, mode) are kept while an LLM judge has not answered.

    The name carries a fingerprint of everything that determines the outputs (`model_key`, the model's weights;
    the items; the generation settings, rounds included; the prompt format; the seed), so a changed model or
    param never reuses them. The judge's own settings are left out: changing the judge re-judges, no more.
    """
    gen_cfg = {k: v for k, v in to_dict(cfg).items() if not k.startswith("judge")}
    key = fingerprint({"model": model_key, "items": [it.id for it in items], "mode": mode, "cfg": gen_cfg,
                       "format": to_dict(base.format), "seed": base.seed})
    return root / "cache" / "generations" / f"{model_name}-{benchmark}-{mode}-{key}.jsonl"


def generate_rounds(engine: Engine, items: list[EvalItem], mode: str, cfg: EvaluateConfig, base: BaseConfig,
                    keep: Path | None = None) -> list[list[dict[str, Any]]]:
    """Each generation round's unscored rows. With `keep`, they are read from / written to that file, so a
    rerun after an LLM judge's batch export (or failure) judges the same outputs instead of regenerating."""
    if keep is not None and keep.exists():
        log.info("reusing the outputs kept in %s (the judge had not answered)", keep)
        rows = read_jsonl(keep)
        rounds = sorted({r["gen_round"] for r in rows})
        return [[{k: v for k, v in r.items() if k != "gen_round"} for r in rows if r["gen_round"] == g]
                for g in rounds]
    gen_rounds = cfg.rounds if cfg.sampling.do_sample else 1
    generated = [predict(engine, items, mode, cfg, base.format, seed=base.seed + r) for r in range(gen_rounds)]
    if keep is not None:
        write_jsonl(keep, ({**row, "gen_round": g} for g, rows in enumerate(generated) for row in rows))
    return generated


def run_mode(engine: Engine, items: list[EvalItem], mode: str, cfg: EvaluateConfig, base: BaseConfig,
             judge: LLMJudge | None, keep: Path | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Metrics (mean and std over rounds, timing) and every round's scored rows. Greedy outputs are the same
    in every round, so they are generated once and only judged per round."""
    generated = generate_rounds(engine, items, mode, cfg, base, keep)
    gen_rounds = len(generated)
    rows_all: list[dict[str, Any]] = []
    per_round = []
    for r in range(cfg.rounds):
        rows = copy.deepcopy(generated[min(r, gen_rounds - 1)])
        score_rows(rows, cfg.abstention_markers, judge, r)
        for row in rows:
            row["round"] = r
        per_round.append(aggregate(rows))
        rows_all += rows
    timing = timing_scores([row for g in generated for row in g])
    return {**combine_rounds(per_round), **timing}, rows_all


def _table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Scalar columns for the MLflow table (lists joined)."""
    return [{c: " | ".join(map(str, r[c])) if isinstance(r.get(c), list) else r.get(c) for c in TABLE_COLUMNS}
            for r in rows]


def benchmarks_for(model_name: str, cfg: EvaluateConfig) -> list[str]:
    """The benchmarks one model is evaluated on: `benchmarks` for the `evaluate` models, `arch_benchmarks` for
    the other architectures (`arch_models`)."""
    if model_name in cfg.models:
        return list(cfg.benchmarks)
    if model_name in cfg.arch_models:
        return list(cfg.arch_benchmarks)
    raise ValueError(f"params.yaml: model {model_name!r} is in neither evaluate.models {cfg.models} nor "
                     f"evaluate.arch_models {cfg.arch_models}")


def evaluate_model(model_name: str, cfg: EvaluateConfig, base: BaseConfig, model_dir: Path, raw_dir: Path,
                   out_dir: Path, open_run: Callable[[str], AbstractContextManager[StageRun]],
                   root: str | os.PathLike | None = None) -> dict[str, Any]:
    """Every benchmark of one model, loaded once (one process per model saves a start-up per benchmark):
    writes out_dir/<benchmark>/<mode>/{predictions.jsonl, metrics.json}, all or nothing, and returns
    {benchmark: {mode: metrics}}. `open_run(benchmark)` opens that benchmark's tracking run."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    backend = prepare_backend(torch.device(device))
    loaded = load_model(model_dir, device)
    results: dict[str, Any] = {}
    kept: list[Path] = []
    with atomic_dir(out_dir) as tmp:
        for benchmark in benchmarks_for(model_name, cfg):
            with open_run(benchmark) as run:
                run.set_tags(backend)
                results[benchmark] = evaluate_benchmark(model_name, benchmark, cfg, base, model_dir, loaded,
                                                        benchmark_path(raw_dir, benchmark), tmp / benchmark, run,
                                                        kept, root)
    # Only now that every benchmark is written: a judge's batch export on a later benchmark stops the stage, and
    # its rerun judges the earlier benchmarks' kept outputs instead of generating them again.
    for path in kept:
        path.unlink(missing_ok=True)
    return results


def evaluate_benchmark(model_name: str, benchmark: str, cfg: EvaluateConfig, base: BaseConfig, model_dir: Path,
                       loaded: tuple[Any, Any], data_path: Path, out_dir: Path, run: StageRun, kept: list[Path],
                       root: str | os.PathLike | None = None) -> dict[str, Any]:
    """One model, `loaded` = (model, tokenizer) from `model_dir`, on one benchmark: writes
    out_dir/<mode>/{predictions.jsonl, metrics.json}; returns {mode: metrics} (+ 'judge' usage). Outputs kept
    for an LLM judge are appended to `kept`; the caller deletes them once everything is written."""
    modes = modes_for(model_name, benchmark, cfg)
    model, tok = loaded
    model.eval()
    items = limit_per_task(load_benchmark(benchmark, data_path, cfg), cfg.limit)
    items = limit_per_task(items, cfg.model_limits.get(model_name, 0), by_type=True)
    fit_items(items, tok, base.format, cfg)
    engine = ModelEngine(model, tok, cfg.sampling)
    judge = None
    root = Path(root or project_root())
    if cfg.judge == "openai" and any(it.task == "longmemeval" for it in items):
        cache = Path(cfg.judge_cache) if Path(cfg.judge_cache).is_absolute() else root / cfg.judge_cache
        judge = make_judge(cfg.judge_llm, cache, cfg.judge_prices, root)
        run.set_tags({"evaluate.judge_model": judge.model, "evaluate.judge_endpoint": judge.runner.backend.endpoint})
    results: dict[str, Any] = {}
    model_key = (dir_fingerprint(model_dir) if model_dir.is_dir() else str(model_dir)) if judge is not None else ""
    with atomic_dir(out_dir) as tmp:
        for mode in modes:
            mode_items = limit_per_task(items, cfg.mode_limits.get(mode, 0), by_type=True)
            log.info("%s on %s (%d items), mode %s, %d round(s)", model_name, benchmark, len(mode_items), mode,
                     cfg.rounds)
            keep = (generations_path(root, model_name, benchmark, mode, model_key, mode_items, cfg, base)
                    if judge is not None else None)
            kept += [keep] if keep is not None else []
            metrics, rows = run_mode(engine, mode_items, mode, cfg, base, judge, keep)
            write_jsonl(tmp / mode / "predictions.jsonl", rows)
            write_json(tmp / mode / "metrics.json", metrics)
            results[mode] = metrics
            run.log_metrics({mode: metrics})
            run.log_table(_table(rows[: cfg.table_rows]), f"tables/{mode}_predictions.json")
            run.log_artifact(tmp / mode / "predictions.jsonl", f"predictions/{mode}")
            log.info("%s: %s", mode, {k: v for k, v in metrics.items() if k in ("avg", "rag", "icl", "recall", "n")})
    if judge is not None:
        results["judge"] = judge.runner.usage.metrics("judge")
        run.log_metrics(results["judge"])
    return results

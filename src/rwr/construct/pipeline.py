"""The construct stage body: backends from params, D_f and D_e, the mixes, outputs, metrics and MLflow."""

from __future__ import annotations

import logging
import os
from typing import Any

from rwr.config import BaseConfig, ConstructConfig
from rwr.construct.backends import make_backends
from rwr.construct.build import construct, mix
from rwr.construct.select import source_records
from rwr.data.orca import write_orca
from rwr.io import atomic_dir, write_json
from rwr.llm import BatchPending, Usage
from rwr.tracking import StageRun, project_root

log = logging.getLogger("rwr")


def run_construct(
    orca: list[dict[str, Any]],
    base: BaseConfig,
    cfg: ConstructConfig,
    out: str | os.PathLike,
    metrics: str | os.PathLike,
    run: StageRun,
    root: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Write out/{summary,empty,sft,rwr}.jsonl and the metrics JSON (all or nothing); returns the metrics."""
    seed = base.seed if cfg.seed is None else cfg.seed
    teacher, verifier, runners = make_backends(cfg, root or project_root(), progress)
    run.set_tags(
        {
            "construct.teacher": teacher.name,
            "construct.verifier": verifier.name,
            **{f"construct.{role}_model": getattr(cfg, f"{role}_llm").model for role in runners},
            **{f"construct.{role}_endpoint": r.backend.endpoint for role, r in runners.items()},
        }
    )
    try:
        summaries, empties, counts = construct(
            source_records(orca, cfg), cfg, base.format, seed, teacher, verifier
        )
    except BatchPending as e:
        run.set_tags({"construct.batch_pending": f"{e.n} {e.role} requests in {e.path}"})
        raise
    sft, rwr = mix(orca, summaries, empties, cfg.n_orca, seed)
    with atomic_dir(out) as tmp:
        write_orca(tmp / "summary.jsonl", summaries)
        write_orca(tmp / "empty.jsonl", empties)
        write_orca(tmp / "sft.jsonl", sft)
        write_orca(tmp / "rwr.jsonl", rwr)
    stats: dict[str, Any] = {
        **counts,
        "summary": len(summaries),
        "empty": len(empties),
        "sft_set": len(sft),
        "rwr_set": len(rwr),
    }
    # Offline backends report zeros, so every profile writes one metrics schema (dvc metrics diff).
    for role in ("teacher", "verifier"):
        stats.update((runners[role].usage if role in runners else Usage()).metrics(role))
    stats["llm_cost_usd"] = round(stats["teacher_cost_usd"] + stats["verifier_cost_usd"], 6)
    stats["llm_cost_usd_this_run"] = round(
        stats["teacher_cost_usd_this_run"] + stats["verifier_cost_usd_this_run"], 6
    )
    write_json(metrics, stats)
    run.log_metrics(stats)
    run.log_table(
        summaries[: cfg.sample_rows] + empties[: max(1, cfg.sample_rows // 5)],
        "tables/construct_samples.json",
    )
    for name, have, want in (
        ("summary (D_f)", len(summaries), cfg.n_summary),
        ("empty (D_e)", len(empties), cfg.n_empty),
    ):
        if have < want:
            log.warning(
                "construct: only %d %s records of the %d asked for (see the drop counts)", have, name, want
            )
    log.info(
        "construct: D_f %d, D_e %d, sft %d, rwr %d; LLM cost $%.4f ($%.4f this run)",
        len(summaries),
        len(empties),
        len(sft),
        len(rwr),
        stats["llm_cost_usd"],
        stats["llm_cost_usd_this_run"],
    )
    return stats

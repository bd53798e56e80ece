"""The one MLflow wrapper: an absolute SQLite tracking URI, one run per DVC stage instance, fixed tags.

DVC runs queued/temp experiments in a copy of the repo under .dvc/tmp/exps/, so a relative
``sqlite:///mlflow.db`` would silently write a throwaway database there (and MLflow >= 3.13 refuses the old
./mlruns file store). The URI is therefore resolved once, against the real project root.

``RWR_TRACKING=off`` (used by tests) turns every call into a no-op.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("rwr")

_EXP_TMP_PARTS = (".dvc", "tmp", "exps")


def project_root(start: str | os.PathLike | None = None) -> Path:
    """The real project root: the cwd, or the repo a DVC temp experiment copy was made from."""
    path = Path(start or os.getcwd()).resolve()
    parts = path.parts
    for i in range(len(parts) - len(_EXP_TMP_PARTS) + 1):
        if parts[i : i + len(_EXP_TMP_PARTS)] == _EXP_TMP_PARTS:
            return Path(*parts[:i])
    return path


def tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI if set, else sqlite:////<project root>/mlflow.db (absolute)."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{project_root() / 'mlflow.db'}"


def artifact_root() -> str:
    return (project_root() / "mlartifacts").as_uri()


def _store_setup_lock(uri: str) -> contextlib.AbstractContextManager:
    """A lock beside a SQLite store while its tables and the experiment are created: two stages starting at
    once on a fresh database (parallel `dvc exp run --jobs`, or two stage scripts by hand) both run MLflow's
    migrations and one fails with "duplicate column name" (seen here); creating the experiment races too."""
    if not uri.startswith("sqlite:///"):
        return contextlib.nullcontext()
    from filelock import FileLock

    return FileLock(uri[len("sqlite:///"):] + ".lock", timeout=300)


def enabled() -> bool:
    return os.environ.get("RWR_TRACKING", "on").lower() not in ("off", "0", "false", "none")


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}; lists become their string form."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


class StageRun:
    """Handle on the active stage run (or a no-op stand-in when tracking is off)."""

    def __init__(self, run_id: str | None) -> None:
        self.run_id = run_id

    @property
    def active(self) -> bool:
        return self.run_id is not None

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if not self.active:
            return
        import mlflow

        clean = {k: float(v) for k, v in flatten(metrics).items() if isinstance(v, int | float)}
        if clean:
            mlflow.log_metrics(clean, step=step)

    def log_params(self, params: Mapping[str, Any]) -> None:
        if not self.active:
            return
        import mlflow

        # MLflow accepts only [A-Za-z0-9_-. :/] in names (labels such as "Mamba (Pre)" are not).
        flat = {re.sub(r"[^\w\-. :/]", "_", k): str(v)[:6000] for k, v in flatten(params).items()}
        items = list(flat.items())
        for i in range(0, len(items), 90):  # MLflow caps a batch at 100 params
            mlflow.log_params(dict(items[i : i + 90]))

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self.active:
            import mlflow

            mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def log_artifact(self, path: str | os.PathLike, artifact_path: str | None = None) -> None:
        if self.active and Path(path).exists():
            import mlflow

            mlflow.log_artifact(str(path), artifact_path=artifact_path)

    def log_table(self, rows: list[dict], artifact_file: str) -> None:
        """A small per-example table (few per run: MLflow keeps their names in a size-capped tag)."""
        if self.active and rows:
            import mlflow

            cols = sorted({k for r in rows for k in r})
            mlflow.log_table({c: [r.get(c) for r in rows] for c in cols}, artifact_file=artifact_file)


@contextlib.contextmanager
def stage_run(
    stage: str,
    profile: str,
    params: Mapping[str, Any],
    experiment: str = "rwr",
    item: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> Iterator[StageRun]:
    """One MLflow run for one DVC stage instance (e.g. stage 'train', item 'mamba_rwr')."""
    if not enabled():
        yield StageRun(None)
        return
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    with _store_setup_lock(uri):
        if mlflow.get_experiment_by_name(experiment) is None:
            mlflow.create_experiment(experiment, artifact_location=artifact_root())
        mlflow.set_experiment(experiment)
    name = f"{stage}@{item}" if item else stage
    all_tags = {
        "dvc.stage": os.environ.get("DVC_STAGE", name),
        "dvc.exp_name": os.environ.get("DVC_EXP_NAME", "workspace"),
        "dvc.baseline": os.environ.get("DVC_EXP_BASELINE_REV", ""),
        "rwr.stage": stage,
        "rwr.item": item or "",
        "rwr.profile": profile,
        "mlflow.source.git.commit": git_commit(),
        **(tags or {}),
    }
    with mlflow.start_run(run_name=name, tags={k: str(v) for k, v in all_tags.items()}) as run:
        handle = StageRun(run.info.run_id)
        handle.log_params(params)
        log.info("MLflow run %s (%s) at %s", run.info.run_id, name, tracking_uri())
        yield handle


def lightning_logger(run: StageRun, experiment: str = "rwr"):
    """Lightning's MLFlowLogger pointed at the stage's run (never its file-store default)."""
    if not run.active:
        return False
    from lightning.pytorch.loggers import MLFlowLogger

    return MLFlowLogger(experiment_name=experiment, tracking_uri=tracking_uri(), run_id=run.run_id,
                        log_model=False)

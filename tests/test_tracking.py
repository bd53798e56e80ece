from pathlib import Path

from rwr.tracking import flatten, project_root, stage_run, tracking_uri


def test_project_root_escapes_dvc_temp_copies(tmp_path):
    assert project_root(tmp_path / "repo" / ".dvc" / "tmp" / "exps" / "tmpab12") == (tmp_path / "repo").resolve()
    assert project_root(tmp_path) == tmp_path.resolve()


def test_tracking_uri_is_absolute_sqlite(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    uri = tracking_uri()
    assert uri.startswith("sqlite:////") and uri.endswith("/mlflow.db")


def test_flatten():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": "x"}) == {"a.b": 1, "a.c": [1, 2], "d": "x"}


def test_stage_run_logs_params_metrics_and_tags(monkeypatch, tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("RWR_TRACKING", "on")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("DVC_EXP_NAME", "exp-1")
    monkeypatch.chdir(tmp_path)
    with stage_run("train", "mini", {"lr": 0.1, "opt": {"beta": 0.9}}, "rwr-test", item="mamba_rwr",
                   tags={"fast_kernels": False}) as run:
        run.log_metrics({"loss": 1.5, "nested": {"acc": 50}})
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["rwr-test"], output_format="list")
    assert len(runs) == 1
    r = runs[0]
    assert r.data.params == {"lr": "0.1", "opt.beta": "0.9"}
    assert r.data.metrics == {"loss": 1.5, "nested.acc": 50.0}
    assert r.data.tags["dvc.exp_name"] == "exp-1" and r.data.tags["rwr.profile"] == "mini"
    assert r.data.tags["rwr.item"] == "mamba_rwr" and r.data.tags["fast_kernels"] == "False"
    assert Path(mlflow.get_experiment_by_name("rwr-test").artifact_location).as_posix().endswith("mlartifacts")


def _open_run(uri: str, i: int) -> None:
    import os

    os.environ.update({"RWR_TRACKING": "on", "MLFLOW_TRACKING_URI": uri})
    with stage_run("train", "mini", {"i": i}, "rwr-race", item=str(i)) as run:
        run.log_metrics({"i": i})


def test_stages_starting_at_once_on_a_fresh_store_both_log(tmp_path):
    """Without the set-up lock, two processes creating a fresh SQLite store raced in MLflow's migrations."""
    import multiprocessing as mp

    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_open_run, args=(uri, i)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    mlflow.set_tracking_uri(uri)
    assert len(mlflow.search_runs(experiment_names=["rwr-race"], output_format="list")) == 2

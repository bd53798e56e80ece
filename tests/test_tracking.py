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

"""End to end: `dvc repro` on a micro override of params.yaml in a temporary git copy of the repo."""

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]

MICRO = {
    "data": {"n_orca_train": 40, "n_orca_dev": 3, "n_pretrain_docs": 150, "lme_per_type": 1,
             "lme_abstention_per_type": 1, "lme_oracle_turns": [1, 2], "lme_s_sessions": 3, "lme_s_turns": [1, 2],
             "helmet_rag_questions": 1, "helmet_rag_depths": 1, "helmet_rag_passages": 3, "helmet_rag_demo_rows": 3,
             "helmet_kv_pairs": 4, "helmet_ruler_sentences": 4, "helmet_recall_rows": 2,
             "helmet_icl_labels": {t: 3 for t in ("icl_trec_coarse", "icl_trec_fine", "icl_banking77",
                                                  "icl_clinic150", "icl_nlu")},
             "helmet_icl_train_per_label": 2, "helmet_icl_test": 2, "short_rows": 2},
    "pretrain": {"models": {"mamba_pre": {"hidden_size": 16, "num_layers": 2, "state_size": 4},
                            "phi_pre": {"hidden_size": 16, "num_layers": 2, "num_heads": 2},
                            "hybrid_pre": {"hidden_size": 16, "num_layers": 2, "num_heads": 2, "state_size": 4,
                                           "ssm_head_dim": 8}},
                 "tokenizer": {"vocab_size": 400}, "seq_len": 32, "batch_size": 4, "max_steps": 3, "warmup_steps": 1},
    "construct": {"n_summary": 10, "n_empty": 5, "n_orca": 30},
    "train": {"max_len": 96, "batch_size": 2, "max_steps": 3, "warmup_steps": 1, "checkpoint_every": 2},
    "evaluate": {"max_new_tokens": 4, "limit": 3, "note_max_new_tokens": 4,
                 "ssa": {"segment_tokens": 64, "note_max_new_tokens": 4},
                 "helmet": {"max_test_samples": {"rag": 1, "recall": 1, "icl": 1},
                            "icl_shots": {t: 4 for t in ("icl_trec_coarse", "icl_trec_fine", "icl_banking77",
                                                         "icl_clinic150", "icl_nlu")}},
                 "short": {"max_samples": 1, "max_new_tokens": {"samsum": 4, "rte": 2, "gsm8k": 4, "nq": 4}}},
    "decimamba": {"systems": {"mamba_deci": {"sweep_layers": [0, 1], "L_base": 24, "min_seq_len": 4, "sweep_items": 2,
                                             "sweep_length": 64}}},
    "timing": {"eval_lengths": {"oracle": 24, "s": 48}, "ladder": [16, 32], "new_tokens": 2, "warmup": 0,
               "repeats": 1, "fit_min_length": 0},
}


def _run(args, cwd, env, check=True):
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    dst = tmp_path_factory.mktemp("study")
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split("\n")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file() and not f.startswith(("data/", "models/", "results/", "ckpt/")):
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    params = OmegaConf.merge(OmegaConf.load(dst / "params.yaml"), MICRO)
    (dst / "params.yaml").write_text(OmegaConf.to_yaml(params))
    env = {**os.environ, "RWR_TRACKING": "on", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "DVC_NO_ANALYTICS": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "micro"]):
        _run(cmd, dst, env)
    _run(["dvc", "repro"], dst, env)
    return dst, env


def test_repro_writes_report_metrics_and_mlflow_runs(repo):
    root, env = repo
    table = (root / "reports" / "table1.md").read_text()
    for label in ("Mamba (Pre) (ours)", "Mamba (SFT) (ours)", "RwR (ours)", "RwR (paper)", "## S (paper",
                  "Mamba (SFT) +SSA (ours)", "RwR +SSA (ours)", "RwR +SSA (paper)"):
        assert label in table
    table2 = (root / "reports" / "table2.md").read_text()
    table3 = (root / "reports" / "table3.md").read_text()
    assert "| RwR (ours) |" in table2 and "| RwR (paper) | 47.3 | 54.0 | 1.6 | 34.3 |" in table2
    assert "| RwR (ours) |" in table3 and "| RwR (paper) | 28.1 | 46.9 | 93.0 | 23.7 |" in table3
    assert "+SSA" not in table2 + table3  # SSA runs on LongMemEval S only
    for label in ("DeciMamba (ours)", "ReMamba (ours)", "DeciMamba (paper)", "ReMamba (paper)"):
        assert label in table and label in table2 and label in table3
    table4 = (root / "reports" / "table4.md").read_text()
    for label in ("| RwR (ours) |", "| Phi-2 (ours) |", "| Hymba (ours) |", "| Phi-2 (paper) |", "b (total)"):
        assert label in table4
    timing = json.loads((root / "results" / "timing" / "metrics.json").read_text())
    assert set(timing["systems"]) == set(OmegaConf.load(root / "params.yaml").timing.models)
    assert (root / "reports" / "scaling.png").stat().st_size > 1000
    deci = json.loads((root / "models" / "mamba_deci" / "rwr_system.json").read_text())
    assert deci["decimation"]["decimating_layers"] in ([0], [1])
    plots = _run(["dvc", "plots", "show", "--json"], root, env).stdout
    assert "time_vs_length" in plots and "accuracy_vs_length" in plots
    m = json.loads((root / "results" / "mamba_rwr" / "metrics.json").read_text())["longmemeval_s"]
    assert set(m) == {"rwr", "ssa"} and {"SU", "SA", "SP", "MR", "KU", "TR", "avg"} <= set(m["rwr"])
    assert m["ssa"]["calls_mean"] >= 2
    h = json.loads((root / "results" / "mamba_sft" / "metrics.json").read_text())["helmet"]["direct"]
    assert {"rag", "icl", "recall", "avg", "kilt_nq", "json_kv", "icl_nlu"} <= set(h) and h["n"] == 13
    s = json.loads((root / "results" / "mamba_pre" / "metrics.json").read_text())["short"]["direct"]
    assert {"samsum", "rte", "gsm8k", "nq"} <= set(s)
    preds = (root / "results" / "mamba_rwr" / "predictions" / "longmemeval_s" / "rwr" / "predictions.jsonl")
    assert len(preds.read_text().splitlines()) == 3
    con = sqlite3.connect(root / "mlflow.db")
    names = sorted(r[0] for r in con.execute("select name from runs"))
    expected = ["construct", "data", "report", "timing", "decimamba@mamba_deci"] + [
        f"pretrain@{m}" for m in ("mamba_pre", "phi_pre", "hybrid_pre")] + [
        f"train@{m}" for m in ("mamba_sft", "mamba_rwr", "mamba_remamba", "phi_sft", "hybrid_sft")] + [
        f"evaluate@{m}-{b}" for m in ("mamba_pre", "mamba_sft", "mamba_rwr", "mamba_deci", "mamba_remamba")
        for b in ("orca_dev", "longmemeval_oracle", "longmemeval_s", "helmet", "short")] + [
        f"evaluate@{m}-{b}" for m in ("phi_sft", "hybrid_sft") for b in ("longmemeval_oracle", "longmemeval_s")]
    assert names == sorted(expected)
    n_params = con.execute("select count(*) from params p join runs r on p.run_uuid = r.run_uuid "
                           "where r.name = 'train@mamba_rwr'").fetchone()[0]
    n_metrics = con.execute("select count(*) from metrics m join runs r on m.run_uuid = r.run_uuid "
                            "where r.name = 'train@mamba_rwr' and m.key = 'train/loss'").fetchone()[0]
    assert n_params > 5 and n_metrics >= 1
    shown = _run(["dvc", "metrics", "show", "--json"], root, env).stdout
    assert "mamba_rwr" in shown and "longmemeval_s" in shown


def test_mistyped_param_stops_repro_naming_the_key(repo):
    root, env = repo
    original = (root / "params.yaml").read_text()
    try:
        params = OmegaConf.to_container(OmegaConf.load(root / "params.yaml"))
        params["train"]["warmup_step"] = params["train"].pop("warmup_steps")
        (root / "params.yaml").write_text(OmegaConf.to_yaml(params))
        p = _run(["dvc", "repro"], root, env, check=False)
        assert p.returncode != 0
        assert "train.warmup_step" in p.stdout + p.stderr
    finally:
        (root / "params.yaml").write_text(original)


def test_dvc_experiment_with_a_changed_learning_rate(repo):
    root, env = repo
    _run(["dvc", "exp", "run", "-n", "lr-half", "-S", "train.lr=0.001", "train@mamba_sft"], root, env)
    shown = json.loads(_run(["dvc", "exp", "show", "--json"], root, env).stdout)
    text = json.dumps(shown)
    assert "lr-half" in text and "results/train/mamba_sft/metrics.json" in text and "final_loss" in text
    _run(["dvc", "exp", "remove", "lr-half"], root, env)

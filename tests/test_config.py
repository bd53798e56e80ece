import pytest

from rwr.config import ConfigError, DataConfig, TrainConfig, load_config, load_stage, parse_section

PARAMS = """
base:
  profile: mini
train:
  variants:
    a: {base: m, data: sft}
  lr: 0.01
"""


def test_params_yaml_of_the_repo_is_valid():
    for section in ("data", "pretrain", "construct", "train", "evaluate", "decimamba", "timing", "report"):
        load_stage(section, "params.yaml")


def test_unknown_key_is_named(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text(PARAMS.replace("lr: 0.01", "lrr: 0.01"))
    with pytest.raises(ConfigError, match=r"params.yaml: invalid key 'train.lrr'"):
        load_stage("train", p)


def test_nested_unknown_key_is_named():
    with pytest.raises(ConfigError, match=r"'train.variants.a.bse'"):
        parse_section("train", {"variants": {"a": {"bse": "m"}}}, TrainConfig)


def test_wrong_type_is_named():
    with pytest.raises(ConfigError, match=r"'train.max_steps'"):
        parse_section("train", {"max_steps": "many"}, TrainConfig)


@pytest.mark.parametrize("values, key", [({"pretrain_recall_rate": 1.5}, "pretrain_recall_rate"),
                                         ({"pretrain_quote_rate": -0.1}, "pretrain_quote_rate"),
                                         ({"pretrain_recall_questions": [3, 1]}, "pretrain_recall_questions"),
                                         ({"pretrain_recall_questions": [-1, 2]}, "pretrain_recall_questions"),
                                         ({"pretrain_recall_questions": [1]}, "pretrain_recall_questions")])
def test_bad_recall_settings_are_named(values, key):
    with pytest.raises(ConfigError, match=rf"data.{key}"):
        parse_section("data", values, DataConfig)


def test_bad_loss_normalization_is_named():
    with pytest.raises(ConfigError, match=r"train.loss_normalization"):
        parse_section("train", {"loss_normalization": "tokens"}, TrainConfig)


def test_a_model_in_both_evaluate_lists_is_named():
    from rwr.config import EvaluateConfig

    with pytest.raises(ConfigError, match=r"evaluate.*\['phi_sft'\]"):
        parse_section("evaluate", {"models": ["mamba_sft", "phi_sft"], "arch_models": ["phi_sft"]}, EvaluateConfig)


def test_unknown_section_and_bad_profile(tmp_path):
    p = tmp_path / "params.yaml"
    p.write_text(PARAMS + "trian: {}\n")
    with pytest.raises(ConfigError, match="unknown section"):
        load_stage("train", p)
    p.write_text(PARAMS.replace("profile: mini", "profile: huge"))
    with pytest.raises(ConfigError, match="profile"):
        load_config("base", p)


def test_paper_profile_applies_and_validates(tmp_path):
    from rwr.cli import apply_profile

    p = tmp_path / "params.yaml"
    p.write_text(open("params.yaml").read())
    apply_profile("paper", p, __import__("pathlib").Path("profiles"))
    base, train = load_stage("train", p)
    assert base.profile == "paper" and train.max_len == 6000
    remamba = train.variants["mamba_remamba"]
    assert (remamba.remamba.p, remamba.remamba.rho, remamba.remamba.train_long_prompt) == (0.18, 0.009, 1600)
    assert remamba.max_minutes is None and train.max_minutes == 0  # no cap, as the rest of the paper profile
    assert train.variants["mamba_rwr"].base == "mamba_pre"  # the paper's RwR: one joint run from the base model
    models = load_config("pretrain", p).models
    assert models["phi_pre"].checkpoint == "microsoft/phi-2"
    assert models["hybrid_pre"].checkpoint == "nvidia/Hymba-1.5B-Base" and models["hybrid_pre"].trust_remote_code
    assert load_config("timing", p).ladder[-1] == 200000
    with pytest.raises(ConfigError, match="no such profile"):
        apply_profile("nope", p, __import__("pathlib").Path("profiles"))

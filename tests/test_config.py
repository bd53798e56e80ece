import pytest

from rwr.config import ConfigError, TrainConfig, load_config, load_stage, parse_section

PARAMS = """
base:
  profile: mini
train:
  variants:
    a: {base: m, data: sft}
  lr: 0.01
"""


def test_params_yaml_of_the_repo_is_valid():
    for section in ("data", "pretrain", "construct", "train", "evaluate", "report"):
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
    with pytest.raises(ConfigError, match="no such profile"):
        apply_profile("nope", p, __import__("pathlib").Path("profiles"))

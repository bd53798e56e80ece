"""Remote modelling code (Hymba) loads only from an allowlisted id at a reviewed, pinned revision."""

import pytest

from rwr.config import ModelSpec
from rwr.models import remote
from rwr.models.build import load_pretrained
from rwr.models.remote import RemoteCodeRefused, check_remote_code, compat_shims

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_unlisted_checkpoint_is_refused():
    with pytest.raises(RemoteCodeRefused, match="only allowed for"):
        check_remote_code("someone/evil-model", SHA)


@pytest.mark.parametrize("revision", ["", "main", "v1.0", "0123abc"])
def test_unpinned_revision_is_refused(revision):
    with pytest.raises(RemoteCodeRefused, match="pinned revision"):
        check_remote_code("nvidia/Hymba-1.5B-Base", revision)


def test_pinned_but_unreviewed_revision_is_refused(monkeypatch):
    with pytest.raises(RemoteCodeRefused, match="not a reviewed revision"):
        check_remote_code("nvidia/Hymba-1.5B-Base", SHA)
    monkeypatch.setitem(remote.REMOTE_CODE_ALLOWLIST, "nvidia/Hymba-1.5B-Base", frozenset({SHA}))
    check_remote_code("nvidia/Hymba-1.5B-Base", SHA)  # reviewed and pinned: allowed


def test_load_pretrained_refuses_before_touching_the_hub():
    spec = ModelSpec(arch="hf", checkpoint="nvidia/Hymba-1.5B-Base", revision="main", trust_remote_code=True)
    with pytest.raises(RemoteCodeRefused, match="pinned revision"):
        load_pretrained(spec)


def test_compat_shim_restores_the_removed_helper():
    import transformers.utils as tu

    compat_shims()
    assert tu.is_torch_fx_available() is False


def test_paper_profile_pins_hymba_and_still_refuses_until_reviewed():
    """The paper params name a full commit sha; the allowlist decides whether its remote code may run."""
    from pathlib import Path

    from omegaconf import OmegaConf

    prof = OmegaConf.load(Path(__file__).parents[1] / "profiles" / "paper.yaml")
    rev = prof.pretrain.models.hybrid_pre.revision
    assert len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)
    if rev not in remote.REMOTE_CODE_ALLOWLIST["nvidia/Hymba-1.5B-Base"]:
        with pytest.raises(RemoteCodeRefused, match=rev):
            check_remote_code("nvidia/Hymba-1.5B-Base", rev)

"""Checkpoints that need their own modelling code (trust_remote_code): an explicit allowlist of pinned revisions.

Remote code runs arbitrary Python from the hub, and a branch name can start serving different code at any
time. So such a checkpoint loads only when its id is listed here AND the requested revision is a full commit
sha that someone reviewed and wrote into the list. Everything else is refused with a message saying why.

nvidia/Hymba-1.5B-Base (paper Table 4) has no native transformers class, and its ``modeling_hymba.py``
imports ``is_torch_fx_available``, which transformers 5 removed (PR #41268): ``compat_shims`` puts back a
stub that answers False (torch.fx tracing is never used here) before the remote module is imported.
"""

from __future__ import annotations

import re

# hub id -> reviewed commit shas of the repository (40 hex digits). Add a sha only after reading the remote
# modelling code at that commit. Hymba's entry is still empty: no machine of this project could reach the hub
# to read and pin it, so loading it is refused until a reviewed sha is added here (see README, "Hymba").
REMOTE_CODE_ALLOWLIST: dict[str, frozenset[str]] = {
    "nvidia/Hymba-1.5B-Base": frozenset(),
}

_SHA = re.compile(r"^[0-9a-f]{40}$")


class RemoteCodeRefused(ValueError):
    """A trust_remote_code load that is not on the allowlist at a pinned, reviewed revision."""


def check_remote_code(checkpoint: str, revision: str) -> None:
    """Raise RemoteCodeRefused unless `checkpoint` is allowlisted and `revision` is one of its reviewed shas."""
    if checkpoint not in REMOTE_CODE_ALLOWLIST:
        raise RemoteCodeRefused(
            f"{checkpoint!r}: trust_remote_code is only allowed for {sorted(REMOTE_CODE_ALLOWLIST)} "
            "(rwr.models.remote.REMOTE_CODE_ALLOWLIST); review its modelling code and add it there first")
    if not _SHA.match(revision or ""):
        raise RemoteCodeRefused(
            f"{checkpoint!r}: remote code needs a pinned revision (a full 40-hex commit sha), got {revision!r}; "
            "a branch or tag can change the code it serves")
    allowed = REMOTE_CODE_ALLOWLIST[checkpoint]
    if revision not in allowed:
        listed = sorted(allowed) if allowed else "none reviewed yet"
        raise RemoteCodeRefused(
            f"{checkpoint!r}: revision {revision} is not a reviewed revision on the allowlist ({listed}); "
            "read the remote code at that commit, then add the sha to REMOTE_CODE_ALLOWLIST")


def compat_shims() -> list[str]:
    """Restore names that allowlisted remote code imports but transformers 5 removed; returns what was added."""
    import transformers.utils as tu
    import transformers.utils.import_utils as iu

    added = []
    for mod in (tu, iu):
        if not hasattr(mod, "is_torch_fx_available"):
            mod.is_torch_fx_available = lambda: False  # removed in transformers 5; Hymba imports it
            added.append(f"{mod.__name__}.is_torch_fx_available")
    return added

"""Inference-only systems stored as a small directory that points at a trained model (DeciMamba).

DeciMamba changes no weight, so models/<system>/ holds only ``rwr_system.json``: the method, its parameters,
the base model's name and the fingerprint of the base directory it was chosen for (the layer sweep ran on it).
Loading resolves the base as a sibling directory (models/<base>) and refuses a base that changed since, so a
stale system never evaluates silently against a retrained model. This avoids copying a 2.8b checkpoint.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

SYSTEM_FILE = "rwr_system.json"


def read_system(model_dir: str | os.PathLike) -> dict[str, Any] | None:
    path = Path(model_dir) / SYSTEM_FILE
    return json.loads(path.read_text()) if path.exists() else None


def write_decimamba(out_dir: Path, base: str, base_dir: Path, decimation, extra: dict[str, Any]) -> dict[str, Any]:
    """Write out_dir/rwr_system.json for a DeciMamba system (out_dir is a fresh directory)."""
    from rwr.fingerprint import dir_fingerprint

    record = {"method": "decimamba", "base": base, "base_fingerprint": dir_fingerprint(base_dir),
              "decimation": asdict(decimation), **extra}
    (out_dir / SYSTEM_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return record


def load_system(model_dir: Path, record: dict[str, Any], device: str):
    """(model, tokenizer) of a system directory."""
    from rwr.fingerprint import dir_fingerprint

    if record.get("method") != "decimamba":
        raise ValueError(f"{model_dir / SYSTEM_FILE}: unknown method {record.get('method')!r}")
    base_dir = model_dir.parent / record["base"]
    if not (base_dir / "config.json").exists():
        raise FileNotFoundError(f"{model_dir}: its base model {base_dir} is missing")
    if dir_fingerprint(base_dir) != record["base_fingerprint"]:
        raise ValueError(f"{model_dir}: {base_dir} changed since this system was made; rerun its decimamba stage")
    from rwr.models.decimamba import Decimation

    return load_decimamba(base_dir, Decimation(**record["decimation"]), device)


def load_decimamba(base_dir: Path, decimation, device: str):
    """(DeciMambaForCausalLM with `decimation`, tokenizer) from a saved Mamba directory."""
    import torch
    from transformers import AutoTokenizer

    from rwr.models.build import prepare_backend
    from rwr.models.decimamba import DeciMambaForCausalLM

    prepare_backend(torch.device(device))
    tok = AutoTokenizer.from_pretrained(base_dir)
    tok.padding_side = "right"
    model = DeciMambaForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model.decimation = decimation
    return model.to(device), tok

"""The `rwr` command: profile switching and environment information.

  rwr profile paper      merge profiles/paper.yaml into params.yaml (undo with `git checkout params.yaml`)
  rwr info               which Mamba scan path and devices this machine will use
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from omegaconf import OmegaConf

from rwr.config import STAGE_CONFIGS, ConfigError, _load_yaml, parse_section
from rwr.io import write_text


def apply_profile(name: str, params: Path, profiles_dir: Path) -> None:
    """Write params.yaml = params.yaml overridden by profiles/<name>.yaml, validated before writing."""
    src = profiles_dir / f"{name}.yaml"
    if not src.exists():
        known = sorted(p.stem for p in profiles_dir.glob("*.yaml"))
        raise ConfigError(f"{src}: no such profile (known: {known})")
    merged = OmegaConf.merge(_load_yaml(params), _load_yaml(src))
    raw = OmegaConf.to_container(merged)
    for section, schema in STAGE_CONFIGS.items():
        parse_section(section, raw.get(section), schema, f"{params} + {src}")
    write_text(params, OmegaConf.to_yaml(merged))


def info() -> dict:
    import torch

    from rwr.models.fast_mamba import fast_path_report

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return {"device": str(device), "threads": torch.get_num_threads(), **fast_path_report(device)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="rwr", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    prof = sub.add_parser("profile", help="switch params.yaml to a profile in profiles/")
    prof.add_argument("name")
    prof.add_argument("--params", type=Path, default=Path("params.yaml"))
    prof.add_argument("--profiles", type=Path, default=Path("profiles"))
    sub.add_parser("info", help="scan path and devices")
    args = p.parse_args(argv)
    try:
        if args.cmd == "profile":
            apply_profile(args.name, args.params, args.profiles)
            print(f"{args.params}: profile '{args.name}' applied (undo: git checkout {args.params})")
        elif args.cmd == "info":
            print(json.dumps(info(), indent=2))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

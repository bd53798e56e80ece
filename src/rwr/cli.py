"""The `rwr` command: profile switching, environment information, and scoring predictions files.

  rwr profile paper      merge profiles/paper.yaml into params.yaml (undo with `git checkout params.yaml`)
  rwr info               which Mamba scan path and devices this machine will use
  rwr score TASK --data FILE --predictions FILE [--judge offline|openai --base-url URL --model NAME]
                         score predictions with our exact metrics (TASK: longmemeval, a HELMET task such as
                         kilt_nq / json_kv / ruler_niah_mv / icl_banking77, or samsum / rte / gsm8k / nq)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from omegaconf import OmegaConf

from rwr.config import STAGE_CONFIGS, ConfigError, _load_yaml, parse_section
from rwr.io import DataError, write_text
from rwr.llm.errors import LLMError


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


def add_score_parser(sub) -> None:
    from rwr.eval.score_file import TASKS

    sc = sub.add_parser("score", help="score a predictions file against a benchmark data file (no model run)")
    sc.add_argument("task", choices=TASKS)
    sc.add_argument("--data", type=Path, default=None,
                    help="the benchmark's data file in its official format (not needed for HELMET eval.py output)")
    sc.add_argument("--predictions", type=Path, required=True,
                    help='LongMemEval: {"question_id","hypothesis"} JSONL; others: {"id","output"} JSONL; '
                         "HELMET tasks: also HELMET eval.py's output JSON")
    sc.add_argument("--judge", choices=("offline", "openai"), default="offline", help="LongMemEval judge")
    sc.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint of the judge")
    sc.add_argument("--model", default=None, help="judge model (default gpt-4o-2024-08-06, the official one)")
    sc.add_argument("--api-key-env", default="OPENAI_API_KEY", help="NAME of the variable holding the key ('' = none)")
    sc.add_argument("--cache", type=Path, default=Path("cache/llm/judge.jsonl"), help="judge verdict cache")
    sc.add_argument("--seed", type=int, default=42, help="HELMET seed (ICL label remapping)")
    sc.add_argument("--num-labels", type=int, default=0, help="ICL label count (default: HELMET's for the set)")
    sc.add_argument("--out", type=Path, default=None, help="metrics JSON (default <predictions>.metrics.json)")


def score(args: argparse.Namespace) -> None:
    from rwr.eval.score_file import openai_judge, score_file, write_outputs

    judge = None
    if args.task == "longmemeval" and args.judge == "openai":
        judge = openai_judge(args.base_url, args.model, args.api_key_env, args.cache)
    metrics, rows = score_file(args.task, args.data, args.predictions, judge, args.seed, args.num_labels)
    out = write_outputs(args.task, args.predictions, args.out, metrics, rows)
    print(json.dumps(metrics, indent=2))
    print(f"written: {out}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="rwr", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    prof = sub.add_parser("profile", help="switch params.yaml to a profile in profiles/")
    prof.add_argument("name")
    prof.add_argument("--params", type=Path, default=Path("params.yaml"))
    prof.add_argument("--profiles", type=Path, default=Path("profiles"))
    sub.add_parser("info", help="scan path and devices")
    add_score_parser(sub)
    args = p.parse_args(argv)
    try:
        if args.cmd == "profile":
            apply_profile(args.name, args.params, args.profiles)
            print(f"{args.params}: profile '{args.name}' applied (undo: git checkout {args.params})")
        elif args.cmd == "info":
            print(json.dumps(info(), indent=2))
        elif args.cmd == "score":
            score(args)
    except (ConfigError, DataError, LLMError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

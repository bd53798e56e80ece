"""DVC stage `decimamba@<system>`: pick DeciMamba's first decimating layer on a dev set, write models/<system>/.

Run as: python stages/decimamba.py --system mamba_deci --models models --out models/mamba_deci \
            --metrics results/decimamba/mamba_deci/metrics.json
"""

from pathlib import Path

from rwr.config import load_stage, to_dict
from rwr.data.orca import load_orca
from rwr.io import write_json
from rwr.models.decimamba_build import build_decimamba
from rwr.stage import parser, setup
from rwr.tracking import stage_run


def main() -> None:
    p = parser(__doc__)
    for arg in ("--models", "--out", "--metrics"):
        p.add_argument(arg, type=Path, required=True)
    p.add_argument("--system", required=True)
    args = p.parse_args()
    base, cfg = load_stage("decimamba")
    if args.system not in cfg.systems:
        raise SystemExit(f"params.yaml: decimamba.systems has no entry {args.system!r}")
    spec = cfg.systems[args.system]
    setup(base.threads)
    records = load_orca(spec.dev_file)[spec.dev_skip:] if not spec.decimating_layers else []
    with stage_run("decimamba", base.profile, to_dict(spec), base.experiment, item=args.system) as run:
        stats = build_decimamba(args.system, spec, base.format, records, args.models, args.out, base.seed)
        write_json(args.metrics, stats)
        run.log_metrics({k: v for k, v in stats.items() if isinstance(v, int | float)})


if __name__ == "__main__":
    main()

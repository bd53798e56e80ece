"""DVC stage `data`: raw inputs in their real formats (generated in mini, real sources in paper).

Run as: python stages/data.py --out data/raw --metrics results/data/metrics.json
"""

from pathlib import Path

from rwr.config import load_stage, to_dict
from rwr.data.build import write_raw
from rwr.io import atomic_dir, write_json
from rwr.stage import parser, setup
from rwr.tracking import stage_run


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--metrics", type=Path, required=True)
    args = p.parse_args()
    base, cfg = load_stage("data")
    setup(base.threads)
    with stage_run("data", base.profile, to_dict(cfg), base.experiment) as run:
        with atomic_dir(args.out) as tmp:
            stats = write_raw(cfg, base, tmp)
        write_json(args.metrics, stats)
        run.log_metrics(stats)


if __name__ == "__main__":
    main()

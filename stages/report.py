"""DVC stage `report`: reports/table1.md from the metrics files only.

Run as: python stages/report.py --results results --out reports/table1.md
"""

from pathlib import Path

from rwr.config import load_stage
from rwr.io import read_json, write_text
from rwr.report.table1 import VARIANTS, render_table1
from rwr.stage import parser, setup
from rwr.tracking import stage_run


def _metrics(results: Path, model: str, benchmark: str, mode: str):
    path = results / model / benchmark / "metrics.json"
    return read_json(path).get(mode) if path.exists() else None


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--results", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    base, cfg = load_stage("report")
    setup(base.threads)
    ours, in_dist = {}, {}
    for label, spec in cfg.rows.items():
        model, mode = spec.split("/")
        ours[label] = {v: _metrics(args.results, model, b, mode) for v, b in VARIANTS.items()}
        in_dist[label] = _metrics(args.results, model, "orca_dev", mode)
    data_note = ("synthetic LongMemEval-format data and tiny models (see README, 'mini profile')"
                 if base.profile == "mini" else "LongMemEval original files (see results for sha256)")
    text = render_table1(ours, base.profile, data_note, in_dist)
    with stage_run("report", base.profile, {"rows": cfg.rows}, base.experiment) as run:
        write_text(args.out, text)
        run.log_artifact(args.out)


if __name__ == "__main__":
    main()

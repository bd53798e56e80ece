"""DVC stage `report`: reports/table{1,2,3,4}.md and accuracy_vs_length.json from the metrics files only.

Run as: python stages/report.py --results results --out reports
"""

from pathlib import Path

from rwr.config import load_stage
from rwr.io import read_json, write_json, write_text
from rwr.report.table1 import VARIANTS, render_table1
from rwr.report.table4 import render_table4
from rwr.report.tables23 import render_table2, render_table3
from rwr.stage import parser, setup
from rwr.tracking import stage_run


def _metrics(results: Path, model: str, benchmark: str, mode: str):
    """results/<model>/metrics.json is {benchmark: {mode: metrics}} (the model's evaluate stage)."""
    path = results / model / "metrics.json"
    return read_json(path).get(benchmark, {}).get(mode) if path.exists() else None


def _rows(results: Path, rows: dict[str, str], benchmark: str) -> dict:
    """Row label -> that model/mode's metrics on `benchmark` (None where it was not run)."""
    out = {}
    for label, spec in rows.items():
        model, mode = spec.split("/")
        out[label] = _metrics(results, model, benchmark, mode)
    return out


def _accuracy_vs_length(results: Path, rows: dict[str, str]) -> list[dict]:
    """Rows {benchmark, length, <model>: accuracy} for LongMemEval oracle and S (DVC plot: a line per model;
    a model's first row in `rows` gives its mode)."""
    first: dict[str, str] = {}
    for spec in rows.values():
        model, mode = spec.split("/")
        first.setdefault(model, mode)
    out = []
    for variant, bench in VARIANTS.items():
        point: dict = {"benchmark": variant, "length": None}
        for model, mode in first.items():
            m = _metrics(results, model, bench, mode)
            point[model] = m.get("avg") if m else None
            if m and point["length"] is None:
                point["length"] = m.get("prompt_tokens_mean")
        out.append(point)
    return out


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--results", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="directory of the tables")
    args = p.parse_args()
    base, cfg = load_stage("report")
    setup(base.threads)
    ours, in_dist = {}, {}
    for label, spec in cfg.rows.items():
        model, mode = spec.split("/")
        ours[label] = {v: _metrics(args.results, model, b, mode) for v, b in VARIANTS.items()}
        in_dist[label] = _metrics(args.results, model, "orca_dev", mode)
    mini = base.profile == "mini"
    lme_note = ("synthetic LongMemEval-format data and tiny models (see README, 'mini profile')" if mini
                else "LongMemEval original files (see results for sha256)")
    helmet_note = ("synthetic HELMET-format data at a 2k-token length, tiny models" if mini
                   else "HELMET's data files at the configured length (see results/data/metrics.json)")
    short_note = "synthetic sets in the real schemas, tiny models" if mini else "the real test sets via datasets"
    tables = {
        "table1.md": render_table1(ours, base.profile, lme_note, in_dist),
        "table2.md": render_table2(_rows(args.results, cfg.helmet_rows or cfg.rows, "helmet"), base.profile,
                                   helmet_note),
        "table3.md": render_table3(_rows(args.results, cfg.short_rows or cfg.rows, "short"), base.profile,
                                   short_note),
    }
    t4 = {label: {v: _metrics(args.results, spec.split("/")[0], b, spec.split("/")[1]) for v, b in VARIANTS.items()}
          for label, spec in cfg.table4_rows.items()}
    timing_path = args.results / "timing" / "metrics.json"
    timing = read_json(timing_path) if timing_path.exists() else None
    systems = (timing or {}).get("systems", {})
    times = {label: systems.get(spec.split("/")[0]) for label, spec in cfg.table4_rows.items()}
    tables["table4.md"] = render_table4(t4, times, timing, base.profile, lme_note)
    with stage_run("report", base.profile, {"rows": cfg.rows}, base.experiment) as run:
        for name, text in tables.items():
            write_text(args.out / name, text)
            run.log_artifact(args.out / name)
        write_json(args.out / "accuracy_vs_length.json",
                   _accuracy_vs_length(args.results, {**cfg.rows, **cfg.table4_rows}))


if __name__ == "__main__":
    main()

"""Table 1: LongMemEval per-type accuracy, ours beside the paper's."""

from __future__ import annotations

from typing import Any

from rwr.report.paper import TABLE1, TABLE1_LENGTH, TYPE_COLUMNS

VARIANTS = {"oracle": "longmemeval_oracle", "s": "longmemeval_s"}
_TITLES = {"oracle": "Oracle", "s": "S"}


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.1f}" if isinstance(x, float) else str(x)


def render_table1(ours: dict[str, dict[str, dict[str, Any] | None]], profile: str, data_note: str,
                  in_distribution: dict[str, dict[str, Any] | None] | None = None) -> str:
    """`ours`: row label -> variant ('oracle'/'s') -> metrics dict (None where not run)."""
    header = "| System | " + " | ".join("Avg" if c == "avg" else c for c in TYPE_COLUMNS) + " | n | prompt tokens |"
    rule = "|" + "---|" * (len(TYPE_COLUMNS) + 3)
    lines = [
        "# Table 1: LongMemEval (accuracy, %)",
        "",
        f"Ours: profile **{profile}**; {data_note}",
        "Paper: Ma et al. (2025), Table 1 (Mamba-2.8b, GPT-4o judge, mean of three rounds); copied, not re-run.",
        "Avg is the micro average over all questions (the paper's weighted average).",
        "",
    ]
    for variant, bench in VARIANTS.items():
        lines += [f"## {_TITLES[variant]} (paper: {TABLE1_LENGTH[variant]})", "", header, rule]
        for label, per_variant in ours.items():
            m = per_variant.get(variant)
            if m is None and label not in TABLE1[variant]:
                continue  # e.g. +SSA rows on the oracle files, which neither we nor the paper run
            if m is None:
                cells = ["–"] * (len(TYPE_COLUMNS) + 2)
            else:
                cells = [_fmt(m.get(c)) for c in TYPE_COLUMNS] + [str(m.get("n", "")),
                                                                  _fmt(m.get("prompt_tokens_mean"))]
            lines.append(f"| {label} (ours) | " + " | ".join(cells) + " |")
        for label, row in TABLE1[variant].items():
            lines.append(f"| {label} (paper) | " + " | ".join(_fmt(float(x)) for x in row) + " | | |")
        lines.append("")
    if in_distribution:
        lines += ["## In-distribution check (held-out SFT-format questions at the fine-tuning length)", "",
                  "| System | accuracy | n | prompt tokens |", "|---|---|---|---|"]
        for label, m in in_distribution.items():
            if m is not None:
                lines.append(f"| {label} | {_fmt(m.get('avg'))} | {m.get('n')} | {_fmt(m.get('prompt_tokens_mean'))} |")
        lines.append("")
    return "\n".join(lines)

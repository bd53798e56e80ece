"""Tables 2 (HELMET: RAG / ICL / SR / Avg) and 3 (short tasks: Dialogue / NLI / Reasoning / Open-QA), ours beside
the paper's."""

from __future__ import annotations

from typing import Any

from rwr.report.paper import TABLE2, TABLE2_COLUMNS, TABLE3, TABLE3_COLUMNS

# Our metric key behind each paper column.
TABLE2_KEYS = {"RAG": "rag", "ICL": "icl", "SR": "recall", "Avg": "avg"}
TABLE3_KEYS = {"Dialogue": "samsum", "NLI": "rte", "Reasoning": "gsm8k", "Open-QA": "nq"}
HELMET_DETAIL = ("kilt_nq", "kilt_triviaqa", "kilt_hotpotqa", "kilt_popqa_3", "json_kv", "ruler_niah_mk_2",
                 "ruler_niah_mk_3", "ruler_niah_mv", "icl_trec_coarse", "icl_trec_fine", "icl_banking77",
                 "icl_clinic150", "icl_nlu")


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.1f}" if isinstance(x, float) else str(x)


def _table(title: str, intro: list[str], columns: tuple[str, ...], keys: dict[str, str],
           ours: dict[str, dict[str, Any] | None], paper: dict[str, tuple]) -> list[str]:
    lines = [title, "", *intro, "", "| System | " + " | ".join(columns) + " | n |", "|" + "---|" * (len(columns) + 2)]
    for label, m in ours.items():
        if m is None and label not in paper:
            continue  # a row that does not exist for this table (e.g. +SSA outside LongMemEval)
        if m is None:
            cells = ["–"] * len(columns) + [""]
        else:
            cells = [_fmt(m.get(keys[c])) for c in columns] + [str(m.get("n"))]
        lines.append(f"| {label} (ours) | " + " | ".join(cells) + " |")
    for label, row in paper.items():
        lines.append(f"| {label} (paper) | " + " | ".join(_fmt(float(x)) for x in row) + " | |")
    return lines + [""]


def render_table2(ours: dict[str, dict[str, Any] | None], profile: str, data_note: str) -> str:
    intro = [f"Ours: profile **{profile}**; {data_note}",
             "Paper: Ma et al. (2025), Table 2 (Mamba-2.8b, HELMET at 16k); copied, not re-run.",
             "RAG = mean SubEM of nq/triviaqa/hotpotqa/popqa; ICL = mean EM of trec coarse/fine, banking77, "
             "clinic150, nlu; SR = mean of json_kv SubEM and RULER niah mk2/mk3/mv recall; Avg = mean of the three."]
    lines = _table("# Table 2: HELMET (%)", intro, TABLE2_COLUMNS, TABLE2_KEYS, ours, TABLE2)
    lines += ["## Per task (ours)", "", "| System | " + " | ".join(HELMET_DETAIL) + " |",
              "|" + "---|" * (len(HELMET_DETAIL) + 1)]
    for label, m in ours.items():
        if m is not None:
            lines.append(f"| {label} | " + " | ".join(_fmt(m.get(t)) for t in HELMET_DETAIL) + " |")
    return "\n".join(lines + [""])


def render_table3(ours: dict[str, dict[str, Any] | None], profile: str, data_note: str) -> str:
    intro = [f"Ours: profile **{profile}**; {data_note}",
             "Paper: Ma et al. (2025), Table 3; copied, not re-run.",
             "Dialogue = SAMSum mean ROUGE-1/2/L F1; NLI = RTE accuracy; Reasoning = GSM8K solve rate; "
             "Open-QA = Natural Questions exact match."]
    return "\n".join(_table("# Table 3: short-context tasks (%)", intro, TABLE3_COLUMNS, TABLE3_KEYS, ours, TABLE3))

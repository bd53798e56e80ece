"""Table 4 rendering: our rows with both times beside the paper's rows, and the scaling section."""

from rwr.report.table4 import render_table4


def test_table4_has_ours_paper_times_and_exponents():
    metrics = {"SU": 50.0, "SA": 40.0, "SP": 0.0, "MR": 10.0, "KU": 20.0, "TR": 30.0, "avg": 25.0, "n": 24,
               "seconds_per_sample": 0.25}
    ours = {"RwR": {"oracle": metrics, "s": None}, "Phi-2": {"oracle": None, "s": None}}
    times = {"RwR": {"oracle_total_s": 0.12, "s_total_s": 1.5}, "Phi-2": None}
    timing = {"systems": {"mamba_rwr": {"arch": "mamba", "exponent_total": 1.02, "exponent_prefill": 0.98,
                                        "max_length_timed": 8192, "mamba_scan": "fused-numba"}},
              "exponent_by_arch": {"mamba": 1.02}}
    text = render_table4(ours, times, timing, "mini", "synthetic")
    assert "| RwR (ours) | 50.0 | 40.0 | 0.0 | 10.0 | 20.0 | 30.0 | 25.0 | 0.12s | 0.25s | 24 |" in text
    assert "| RwR (ours) | – | – | – | – | – | – | – | 1.5s | – | – |" in text  # S: timed, not evaluated
    assert "| Phi-2 (paper) | 61.4 | 67.8 | 0.0 | 1.5 | 5.1 | 4.5 | 18.5 | 2.5s | | |" in text
    assert "| Hymba (paper) | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 0.0 | 17.5s | | |" in text
    assert "| mamba_rwr | mamba | 1.02 | 0.98 | 8192 | fused-numba |" in text and "| mamba | 1.02 |" in text

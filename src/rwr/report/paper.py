"""The paper's published numbers (Ma et al., 2025), copied from its tables for side-by-side reporting.

These are the paper's results, never ours; reports label them as such.
"""

TYPE_COLUMNS = ("SU", "SA", "SP", "MR", "KU", "TR", "avg")

# Table 1 (LongMemEval, %, mean of three rounds): variant -> row label -> SU, SA, SP, MR, KU, TR, Avg.
TABLE1 = {
    "oracle": {
        "Mamba (Pre)": (0, 1.8, 0, 0.75, 0, 0, 0.4),
        "Mamba (SFT)": (31.4, 39.2, 6.7, 8.3, 21.8, 14.3, 18.6),
        "DeciMamba": (47.0, 41.1, 6.7, 3.0, 19.2, 14.3, 19.3),
        "ReMamba": (45.7, 33.9, 13.3, 10.5, 28.2, 23.2, 24.4),
        "RwR": (48.6, 44.6, 10.0, 13.5, 33.3, 24.1, 27.6),
    },
    "s": {
        "Mamba (Pre)": (0, 0, 0, 0, 0, 0, 0),
        "Mamba (SFT)": (11.4, 5.7, 0, 4.5, 10.3, 11.2, 8.0),
        "Mamba (SFT) +SSA": (7.1, 7.1, 0, 5.3, 5.1, 9.8, 6.6),
        "DeciMamba": (0, 0, 0, 0, 0, 0.75, 0.2),
        "ReMamba": (2.9, 1.8, 0, 3.8, 7.7, 4.5, 4.0),
        "RwR": (10.0, 7.1, 0, 6.3, 11.5, 16.3, 9.8),
        "RwR +SSA": (12.9, 8.9, 0, 7.5, 16.7, 15.0, 11.4),
    },
}
TABLE1_LENGTH = {"oracle": "~10k tokens", "s": "~100k tokens"}

# Table 2 (HELMET at 16k, %): row label -> RAG, ICL, SR, Avg.
TABLE2_COLUMNS = ("RAG", "ICL", "SR", "Avg")
TABLE2 = {
    "Mamba (Pre)": (0, 0, 0, 0),
    "Mamba (SFT)": (44.6, 39.0, 0.5, 28.0),
    "DeciMamba": (39.8, 20.0, 3.5, 21.1),
    "ReMamba": (41.8, 52.0, 1.7, 31.8),
    "RwR": (47.3, 54.0, 1.6, 34.3),
}

# Table 3 (short-context tasks, %): row label -> Dialogue (SAMSum), NLI (RTE), Reasoning (GSM8K), Open-QA (NQ).
TABLE3_COLUMNS = ("Dialogue", "NLI", "Reasoning", "Open-QA")
TABLE3 = {
    "Mamba (Pre)": (25.2, 45.7, 71.5, 21.5),
    "Mamba (SFT)": (23.3, 40.6, 88.5, 23.4),
    "DeciMamba": (24.7, 36.5, 92.8, 9.9),
    "ReMamba": (5.1, 50.5, 61.5, 21.4),
    "RwR": (28.1, 46.9, 93.0, 23.7),
}

# Table 4 (other architectures on LongMemEval, %; Time = seconds per sample): variant -> row -> SU..TR, Avg, Time.
TABLE4 = {
    "oracle": {
        "RwR": (48.6, 44.6, 10.0, 13.5, 33.3, 24.1, 27.6, 1.7),
        "Phi-2": (61.4, 67.8, 0, 1.5, 5.1, 4.5, 18.5, 2.5),
        "Hymba": (40.0, 46.4, 13.3, 6.0, 35.9, 22.6, 24.8, 4.3),
    },
    "s": {
        "RwR": (10.0, 7.1, 0, 6.3, 11.5, 16.3, 9.8, 10.8),
        "Phi-2": (0, 0, 0, 0.75, 1.3, 0, 0.4, 30.6),
        "Hymba": (0, 0, 0, 0, 0, 0, 0, 17.5),
    },
}

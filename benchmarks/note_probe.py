"""Where does an RwR model's note go wrong? Teacher-forced token accuracy per role on the in-distribution dev set.

For each dev record with a gold note (the offline extractive teacher + containment verifier, with the
construct stage's query markers, note length and question setting from params.yaml, and its prompt format),
the model reads the prompt and the gold target once; every target token counts as right when
it is the model's argmax. Roles (rwr.eval.probe): `template` (the note's sentence frame), `note_value` (the
answer inside the note: recall from the chat), `answer` (after the answer cue: copying from the note). The
direct form is scored too, so one table shows an SFT and an RwR model side by side.

    PYTHONPATH=src python benchmarks/note_probe.py --models models/mamba_sft models/mamba_rwr \
        --dev data/raw/orca_dev.jsonl
"""

from __future__ import annotations

import argparse

import torch

from rwr.config import load_stage
from rwr.construct.offline import extract_note, verify_note
from rwr.construct.split import split_question
from rwr.eval.probe import ROLES, RoleTally, probe
from rwr.io import read_jsonl
from rwr.models.build import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--dev", required=True, help="OpenOrca-style JSONL (question ends with the answer cue)")
    ap.add_argument("--params", default=None, help="params file (default: the project's params.yaml)")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    base, cc = load_stage("construct", a.params)
    fmt = base.format
    records = []
    for r in read_jsonl(a.dev):
        split = split_question(r["question"], cc.query_markers, fmt.answer_cue)
        note = split and extract_note(split.context, split.query, cc.max_note_sentences, cc.note_questions,
                                         cc.note_drop_openers)
        if note and verify_note(note, r["response"]):
            records.append((r, note))
    print(f"{len(records)} dev records with a verified gold note")
    print(f"{'model':<28} {'form':<7} " + " ".join(f"{r + ' tok/all':>22}" for r in ROLES))
    for path in a.models:
        model, tok = load_model(path)
        model.eval()
        for form in ("note", "direct"):
            tally = RoleTally()
            for r, note in records:
                tally.add(*probe(model, tok, r, note if form == "note" else None, fmt))
            s = tally.summary()
            cells = [f"{s[r]['token_acc']}% / {s[r]['all_right']}%" if s[r]["records"] else "-" for r in ROLES]
            print(f"{path:<28} {form:<7} " + " ".join(f"{c:>22}" for c in cells), flush=True)


if __name__ == "__main__":
    main()

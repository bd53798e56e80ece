"""Where does an RwR model's note go wrong? Teacher-forced token accuracy per role on the in-distribution dev set.

For each dev record with a gold note (the offline extractive teacher + containment verifier, as in
construction), the model reads the prompt and the gold target once; every target token counts as right when
it is the model's argmax. Roles (rwr.eval.probe): `template` (the note's sentence frame), `note_value` (the
answer inside the note: recall from the chat), `answer` (after the answer cue: copying from the note). The
direct form is scored too, so one table shows an SFT and an RwR model side by side.

    PYTHONPATH=src python benchmarks/note_probe.py --models models/mamba_sft models/mamba_rwr \
        --dev data/raw/orca_dev.jsonl
"""

from __future__ import annotations

import argparse
import json

import torch

from rwr.config import PromptFormat
from rwr.construct.offline import extract_note, verify_note
from rwr.construct.split import split_question
from rwr.eval.probe import ROLES, RoleTally, probe
from rwr.models.build import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--dev", required=True, help="OpenOrca-style JSONL (question ends with the answer cue)")
    ap.add_argument("--max-note-sentences", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    fmt = PromptFormat()
    records = []
    with open(a.dev, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            split = split_question(r["question"], ["\nQuestion:"], fmt.answer_cue)
            note = split and extract_note(split.context, split.query, a.max_note_sentences)
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

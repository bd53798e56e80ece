"""HELMET tasks as evaluation items: its files, templates, demos and sampling (princeton-nlp/HELMET data.py).

Files under data/raw/helmet/ (written by the data stage, in HELMET's own formats):
  <kilt task>.jsonl + <kilt task>.demos.jsonl   rows {question, answers, ctxs: [{title, text}], [id], [s_pop]}
  json_kv.jsonl                                 rows {context, question, answer, num_kvs, demos: [[k, v]]}
  ruler_niah_*.jsonl                            rows {context, query, answer|outputs, type_needle_v}
  icl_*.train.jsonl, icl_*.test.jsonl           rows {text, label}; icl_*.meta.json {num_labels}
Item ids are row indices in the task's (test) file. Sampling follows HELMET: RAG keeps every depth copy of
`max_test_samples` sampled questions; json_kv, RULER and ICL take the first rows of a seeded shuffle (the
permutation `datasets.Dataset.shuffle(seed)` draws). Demos: the question's sha256 seeds the RAG demo shuffle;
ICL demos are label-balanced and the labels are remapped per item to a permutation of 0..N-1 seeded by
sha256(text) + seed. Contexts keep their natural units (passages, JSON lines, sentences, demos) for SSA.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rwr.config import HelmetConfig
from rwr.eval.helmet_metrics import ICL_TASKS, RAG_TASKS, category_of
from rwr.eval.items import EvalItem
from rwr.infer.prompt import ContextPrompt
from rwr.io import DataError, read_json, read_jsonl

# Generation budgets and stop rules (HELMET configs/{rag,recall,icl}_short.yaml).
GEN_MAX = {**{t: 20 for t in (*RAG_TASKS, *ICL_TASKS)}, "json_kv": 100, "ruler_niah_mk_2": 50,
           "ruler_niah_mk_3": 100, "ruler_niah_mv": 50}
STOP_NEWLINE = set(RAG_TASKS) | set(ICL_TASKS)

RAG_INSTRUCTION = ("Use the given documents to write a concise and short answer to the question. Write your answer "
                   "in the following format:\nAnswer: [answer]\n\n")
PASSAGE = "Document (Title: {title}): {text}"
RAG_DEMO = "{documents}\n\nQuestion: {question}\nAnswer: {answer}"
KV_INSTRUCTION = "\n\nExtract the value corresponding to the specified key in the JSON object below.\n\n"
KV_DEMO = "Key: {key}\nCorresponding value:{value}"
ICL_INSTRUCTION = ("Use the provided mapping from the text to label to assign a label to the text. Only output "
                   "\"label: {label}\" and nothing else. \n\n")
ICL_ITEM = "{text}\nlabel: {label}"
NIAH_SINGLE = ("A special magic {t} is hidden within the following text. Make sure to memorize it. I will quiz you "
               "about the {t} afterwards.\n", "\nWhat is the special magic {t} for {q} mentioned in the provided text?",
               "\nThe special magic {t} for {q} mentioned in the provided text is")
NIAH_MULTI = ("Some special magic {t} are hidden within the following text. Make sure to memorize it. I will quiz "
              "you about the {t} afterwards.\n", "\nWhat are all the special magic {t} for {q} mentioned in the "
              "provided text?", "\nThe special magic {t} for {q} mentioned in the provided text are")


def shuffled_indices(n: int, seed: int) -> list[int]:
    """The order `datasets.Dataset.shuffle(seed=seed)` gives n rows (numpy default_rng permutation)."""
    return np.random.default_rng(seed).permutation(n).tolist()


def sha_seed(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)


def task_files(raw: Path, task: str) -> dict[str, Path]:
    if task in ICL_TASKS:
        return {k: raw / f"{task}.{k}.{'json' if k == 'meta' else 'jsonl'}" for k in ("train", "test", "meta")}
    files = {"test": raw / f"{task}.jsonl"}
    if task in RAG_TASKS:
        files["demos"] = raw / f"{task}.demos.jsonl"
    return files


# --------------------------------------------------------------------------------------------------- RAG
def rag_items(task: str, rows: list[dict], demo_rows: list[dict], cfg: HelmetConfig) -> list[EvalItem]:
    rows = list(enumerate(rows))
    if task == "kilt_popqa_3":  # dataset name suffix = the log10 popularity threshold
        rows = [(i, r) for i, r in rows if math.log10(r["s_pop"]) < 3]
        demo_rows = [r for r in demo_rows if math.log10(r["s_pop"]) < 3]
    key = "id" if rows and "id" in rows[0][1] else "question"
    n = cfg.max_test_samples.get("rag", 0)
    if n:
        keys = sorted({str(r[key]) for _, r in rows})
        chosen = set(random.Random(cfg.seed).sample(keys, min(n, len(keys))))
        rows = [(i, r) for i, r in rows if str(r[key]) in chosen]
    items = []
    for i, r in rows:
        demos = _rag_demos(task, r, demo_rows, key, cfg.shots)
        prefix = RAG_INSTRUCTION + demos
        passages = tuple(PASSAGE.format(title=c.get("title", ""), text=c["text"]) for c in r.get("ctxs", []))
        p = ContextPrompt(prefix, passages, "\n\n", f"\n\nQuestion: {r['question']}", "\nAnswer:")
        items.append(EvalItem(str(i), task, p, [str(a) for a in r["answers"]], question=r["question"]))
    return items


def _rag_demos(task: str, row: dict, demo_rows: list[dict], key: str, shots: int) -> str:
    if shots <= 0:
        return ""
    pool = [d for d in demo_rows if d.get(key) != row[key]] if "popqa" in task else demo_rows
    order = shuffled_indices(len(pool), sha_seed(str(row[key])) % 2**31)
    chosen, seen = [], set()
    for j in order:  # drop_duplicates(key) on the shuffled pool, then the first `shots`
        k = pool[j].get(key)
        if k in seen:
            continue
        seen.add(k)
        chosen.append(pool[j])
        if len(chosen) == shots:
            break
    texts = [RAG_DEMO.format(documents="\n\n".join(PASSAGE.format(title=c.get("title", ""), text=c["text"])
                                                   for c in d["ctxs"]), question=d["question"], answer=d["answers"][0])
             for d in chosen]
    return "\n\n".join(texts) + "\n\n"


# ------------------------------------------------------------------------------------------------ json_kv
def kv_units(context: str) -> tuple[str, tuple[str, ...], str]:
    """Split 'header\\n{\\n  "k": "v",\\n ...\\n}' into (text up to '{' line, the key-value lines, the rest).
    A context not laid out one pair per line stays one unit (still truncatable at its end)."""
    start = context.find("{\n")
    end = context.rfind("\n}")
    if start < 0 or end <= start:
        return "", (context,), ""
    return context[: start + 2], tuple(context[start + 2: end].split("\n")), context[end:]


def json_kv_items(rows: list[dict], cfg: HelmetConfig) -> list[EvalItem]:
    order = _sample_rows(len(rows), cfg.max_test_samples.get("recall", 0), cfg.seed)
    items = []
    for i in order:
        r = rows[i]
        demos = "\n\n".join(KV_DEMO.format(key=k, value=" " + v) for k, v in r.get("demos", [])[: cfg.shots])
        demos += "\n\n" if cfg.shots > 0 else ""
        head, lines, tail = kv_units(r["context"])
        p = ContextPrompt(head, lines, "\n", tail + KV_INSTRUCTION + demos + f"Key: {r['question']}",
                          "\nCorresponding value:")
        items.append(EvalItem(str(i), "json_kv", p, [str(r["answer"])], question=r["question"]))
    return items


def _sample_rows(n_rows: int, n: int, seed: int) -> list[int]:
    return shuffled_indices(n_rows, seed)[: min(n, n_rows)] if n else list(range(n_rows))


# -------------------------------------------------------------------------------------------------- RULER
def sentences(context: str) -> tuple[str, ...]:
    """Sentence units ending at '.', keeping every character (the sibling loader splits on '.')."""
    return tuple(re.findall(r"[^.]*\.|[^.]+$", context))


def ruler_items(task: str, rows: list[dict], cfg: HelmetConfig) -> list[EvalItem]:
    head, question, cue = NIAH_MULTI if "niah_mv" in task else NIAH_SINGLE
    items = []
    for i in _sample_rows(len(rows), cfg.max_test_samples.get("recall", 0), cfg.seed):
        r = rows[i]
        q = r.get("query", r.get("question", ""))
        t = r["type_needle_v"]
        answers = r["answer"] if "answer" in r else r["outputs"]
        answers = [answers] if isinstance(answers, str) else [str(a) for a in answers]
        p = ContextPrompt(head.format(t=t), sentences(r["context"]), "", question.format(t=t, q=q),
                          cue.format(t=t, q=q))
        items.append(EvalItem(str(i), task, p, answers, question=q))
    return items


# ---------------------------------------------------------------------------------------------------- ICL
def balance_labels(train: Sequence[dict], shots: int, seed: int) -> list[dict]:
    """HELMET's label-balanced demos: rounds of one example per label, each round shuffled. HELMET seeds a
    fresh random.Random(seed) per call, so every test item gets the same demos (only its labels differ)."""
    rand = random.Random(seed)
    by_label: dict[Any, list[dict]] = {}
    for x in train:
        by_label.setdefault(x["label"], []).append(x)
    rounds = math.ceil(shots / len(by_label))
    grouped: list[list[dict]] = [[] for _ in range(rounds)]
    for samples in by_label.values():
        idx = rand.sample(range(len(samples)), rounds % len(samples))
        while len(idx) < rounds:  # sampling with replacement once a label runs out
            idx += rand.sample(range(len(samples)), min(rounds - len(idx), len(samples)))
        for k, j in enumerate(idx):
            grouped[k].append(samples[j])
    for g in grouped:
        rand.shuffle(g)
    return [x for g in grouped for x in g][:shots]


def label_mapping(text: str, num_labels: int, seed: int) -> list[int]:
    """The per-item remapping of labels 0..N-1 (deterministic: sha256 of the text plus the seed)."""
    mapping = list(range(num_labels))
    random.Random((sha_seed(text) + seed) % 2**31).shuffle(mapping)
    return mapping


def icl_items(task: str, train: list[dict], test: list[dict], num_labels: int, cfg: HelmetConfig) -> list[EvalItem]:
    n = cfg.max_test_samples.get("icl", 0)
    order = shuffled_indices(len(test), cfg.seed)[:n] if n and len(test) > n else list(range(len(test)))
    demos = balance_labels(train, cfg.icl_shots.get(task, 0), cfg.seed)
    items = []
    for i in order:
        r = test[i]
        mapping = label_mapping(r["text"], num_labels, cfg.seed)
        units = tuple(ICL_ITEM.format(text=d["text"], label=mapping[int(d["label"])]) for d in demos)
        p = ContextPrompt(ICL_INSTRUCTION, units, "\n\n", f"\n\n{r['text']}", "\nlabel:")
        items.append(EvalItem(str(i), task, p, [str(mapping[int(r["label"])])], question=r["text"]))
    return items


# ------------------------------------------------------------------------------------------------ loading
def load_task(raw: str | Path, task: str, cfg: HelmetConfig) -> list[EvalItem]:
    files = task_files(Path(raw), task)
    for path in files.values():
        if not path.exists():
            raise DataError(f"{path}: HELMET file missing for task {task} (see README, 'Evaluation')")
    if task in RAG_TASKS:
        items = rag_items(task, read_jsonl(files["test"]), read_jsonl(files["demos"]), cfg)
    elif task == "json_kv":
        items = json_kv_items(read_jsonl(files["test"]), cfg)
    elif task.startswith("ruler_niah"):
        items = ruler_items(task, read_jsonl(files["test"]), cfg)
    else:
        meta = read_json(files["meta"])
        items = icl_items(task, read_jsonl(files["train"]), read_jsonl(files["test"]), int(meta["num_labels"]), cfg)
    for it in items:
        it.max_new_tokens = GEN_MAX[task]
        it.stop_newline = task in STOP_NEWLINE
        it.question_type = category_of(task)
    return items


def load_helmet(raw: str | Path, cfg: HelmetConfig) -> list[EvalItem]:
    return [it for task in cfg.tasks for it in load_task(raw, task, cfg)]

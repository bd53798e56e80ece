"""Build the teacher and verifier that params name (offline, or LLM through rwr.llm)."""

from __future__ import annotations

import os
from pathlib import Path

from rwr.config import ConstructConfig
from rwr.construct.teachers import OfflineTeacher, OfflineVerifier, Teacher, Verifier
from rwr.llm import ChatRunner, ResponseCache, make_runner


def resolve(root: str | os.PathLike, path: str) -> Path:
    """Relative paths live under the project root (not under a DVC temp-experiment copy)."""
    p = Path(path)
    return p if p.is_absolute() else Path(root) / p


def make_backends(
    cfg: ConstructConfig, root: str | os.PathLike, progress: bool = True
) -> tuple[Teacher, Verifier, dict[str, ChatRunner]]:
    """(teacher, verifier, LLM runners by role, for usage metrics); a missing key fails here, early."""
    from rwr.construct.llm import LLMTeacher, LLMVerifier

    runners: dict[str, ChatRunner] = {}
    cache = ResponseCache(resolve(root, cfg.llm_cache)) if "llm" in (cfg.teacher, cfg.verifier) else None
    teacher: Teacher = OfflineTeacher(cfg.max_note_sentences, cfg.note_questions, cfg.note_drop_openers)
    verifier: Verifier = OfflineVerifier()
    if cfg.teacher == "llm":
        runners["teacher"] = make_runner("teacher", cfg.teacher_llm, cache, cfg.prices, root, progress)
        teacher = LLMTeacher(runners["teacher"], cfg.teacher_llm, cfg)
    if cfg.verifier == "llm":
        runners["verifier"] = make_runner("verifier", cfg.verifier_llm, cache, cfg.prices, root, progress)
        verifier = LLMVerifier(runners["verifier"], cfg.verifier_llm, cfg)
    return teacher, verifier, runners

"""SSA segmentation: natural units packed greedily into segments under a token budget."""

from __future__ import annotations

from collections.abc import Sequence


def pack_segments(lengths: Sequence[int], budget: int) -> tuple[list[list[int]], int]:
    """Group unit indices, in order, into segments whose summed lengths stay within `budget`.

    A unit is never cut: one longer than the budget becomes a segment of its own (it is counted, the second
    return value, so runs can report how often that happens). No context gives one empty segment, so the
    question is still asked once.
    """
    if budget < 1:
        raise ValueError(f"segment budget must be >= 1, got {budget}")
    segments: list[list[int]] = []
    current: list[int] = []
    size = 0
    oversize = 0
    for i, n in enumerate(lengths):
        if n > budget:
            oversize += 1
            if current:
                segments.append(current)
            segments.append([i])
            current, size = [], 0
            continue
        if current and size + n > budget:
            segments.append(current)
            current, size = [], 0
        current.append(i)
        size += n
    if current or not segments:
        segments.append(current)
    return segments, oversize

"""Answer modes (direct, RwR) over greedy generation."""

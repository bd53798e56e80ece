"""Inference: generation with timing, and the answer modes (direct, RwR, SSA) over structured prompts."""

"""RwR data construction (paper section 3.1): split, teacher notes, verification, empty summaries, mixing."""

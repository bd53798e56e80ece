"""Tables rendered from metrics files only, beside the paper's published numbers."""

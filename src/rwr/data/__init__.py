"""Record schemas, readers/writers for the real formats, real-source loaders and synthetic generators."""

"""rwr: reproducibility package for "Recall with Reasoning" (Ma et al., 2025).

Importing the package has no side effects; stage scripts in stages/ call into the subpackages.
"""

__version__ = "0.1.0"

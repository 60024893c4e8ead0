"""dnalens core: sequences -> tokens -> model -> attention tracks, motifs, mutation maps, exports.

No Streamlit here: the dashboard and the CLI call these functions. Heavy libraries (torch, transformers) are
imported inside the functions that need them, so ``import core`` stays fast.
"""

from .errors import DnalensError, InputError, ModelError  # noqa: F401  (re-exported)

__version__ = "0.1.0"

"""aecore: autoencoders on MNIST, and the tools to look inside them.

`aecore.explore(...)` opens the explorer on a notebook's own model (aecore/notebook.py); it is
imported on first use, so `import aecore` stays light (no torch, no streamlit)."""
__version__ = "0.1.0"
__all__ = ["__version__", "explore"]


def __getattr__(name: str):
    if name == "explore":
        from .notebook import explore
        return explore
    raise AttributeError(f"module 'aecore' has no attribute {name!r}")

"""The latent space: encode and decode data sets (codec), 2-D maps of codes (projections), new
codes (sampling), neighbours, the code units one by one (units), and exports of a selection.

The names below are imported from their modules when first used (PEP 562), so that importing one
torch-free module of the package (projections, neighbours, export) does not import torch: the
app draws its first map before torch has loaded."""
import importlib

_WHERE = {
    "codec": ("decode_codes", "encode_dataset", "eval_mode", "reconstruct"),
    "neighbours": ("exact_knn", "nearest_neighbours", "neighbour_preservation"),
    "projections": ("PROJECTIONS", "fitted_map", "make_projection", "project", "projection_params"),
    "sampling": ("code_ranges", "decoding_grid", "fit_gaussian", "interpolate", "interpolation", "manifold",
                 "sample_codes", "sample_images"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""The latent space: encode and decode data sets (codec), 2-D maps of codes (projections), new
codes (sampling), neighbours, the code units one by one (units), and exports of a selection."""
from .codec import decode_codes, encode_dataset, eval_mode, reconstruct  # noqa: F401 -- the package's interface
from .neighbours import exact_knn, nearest_neighbours, neighbour_preservation  # noqa: F401
from .projections import PROJECTIONS, fitted_map, make_projection, project, projection_params  # noqa: F401
from .sampling import (code_ranges, decoding_grid, fit_gaussian, interpolate, interpolation,  # noqa: F401
                       manifold, sample_codes, sample_images)

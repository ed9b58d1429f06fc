"""The autoencoders: bodies (mlp, conv, broadcast), bottlenecks, the kinds and their penalty terms.

`build_model(ModelConfig(...))` gives a fresh model of any kind in KINDS."""
from .autoencoder import RECON_LOSSES, Autoencoder, Unavailable  # noqa: F401 -- the package's interface
from .kinds import KINDS, build_model  # noqa: F401

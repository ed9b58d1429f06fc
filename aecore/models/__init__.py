"""The autoencoders: bodies (mlp, conv), bottlenecks, the kinds and their penalty terms.

`build_model(ModelConfig(...))` gives a fresh model of any kind in KINDS."""
from .kinds import KINDS, RECON_LOSSES, Autoencoder, Unavailable, build_model  # noqa: F401 -- the package's interface

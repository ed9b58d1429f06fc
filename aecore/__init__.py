"""aecore: autoencoders on MNIST, and the tools to look inside them."""
__version__ = "0.1.0"

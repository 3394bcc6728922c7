"""gan_zoo: train and compare GAN critic objectives and Lipschitz strategies."""

__version__ = "0.1.0"

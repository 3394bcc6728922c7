"""gan_zoo: train and compare GAN critic objectives and Lipschitz strategies.

Importing the package registers the OmegaConf resolvers its configs use (`gan_zoo.runtime.resolvers`), so a
config composed with Hydra's compose API resolves the same way as under `python -m gan_zoo.train`. Nothing here
imports torch: the command line reports configuration errors before that slow import.
"""

from gan_zoo.runtime import resolvers as _resolvers

__version__ = "0.1.0"

_resolvers.register()


def load(ckpt_path, ema: bool = True, device: str = "auto"):  # noqa: ANN001, ANN201 - see gan_zoo.inference.trained
    """A trained GAN from a gan_zoo checkpoint alone: `.generator` (eval mode, the EMA copy if the run kept one and
    ema is true), `.critic`, `.config`, `.sample(n, seed)`, `.generate(z)`, `.noise(n, seed)`
    (gan_zoo.inference.trained.TrainedGAN). Imports torch on first use."""
    from gan_zoo.inference.trained import load as load_trained

    return load_trained(ckpt_path, ema=ema, device=device)

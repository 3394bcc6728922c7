"""gan_zoo: train and compare GAN critic objectives and Lipschitz strategies.

Importing the package registers the OmegaConf resolvers its configs use (`gan_zoo.runtime.resolvers`), so a
config composed with Hydra's compose API resolves the same way as under `python -m gan_zoo.train`. Nothing here
imports torch: the command line reports configuration errors before that slow import.
"""

from gan_zoo.runtime import resolvers as _resolvers

__version__ = "0.1.0"

_resolvers.register()

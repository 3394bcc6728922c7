"""gan_zoo's Hydra sweeper for random search (gan_zoo.runtime.search). Hydra instantiates sweepers only from the
`hydra_plugins` namespace package (hydra.core.plugins.Plugins.is_in_toplevel_plugins_module), hence this package."""

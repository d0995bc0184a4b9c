"""Call platforms as plugins of the core: names, the plugin interface, and the loader."""

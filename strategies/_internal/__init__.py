"""Implementation of the public strategies; import them from ``strategies``."""

"""mxicat.mx."""

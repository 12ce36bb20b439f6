"""mxicat.catalogue."""

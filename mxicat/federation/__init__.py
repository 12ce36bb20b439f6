"""mxicat.federation."""

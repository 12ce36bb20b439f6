"""mxicat.catalogue.remote."""

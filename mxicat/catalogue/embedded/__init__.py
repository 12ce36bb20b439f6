"""mxicat.catalogue.embedded."""

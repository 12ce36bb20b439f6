"""mxicat.query."""

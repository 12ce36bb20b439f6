"""mxicat.harvest."""

"""mxicat.http."""

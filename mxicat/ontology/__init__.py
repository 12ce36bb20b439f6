"""mxicat.ontology."""

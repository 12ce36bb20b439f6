"""mxicat: an ICAT-compatible metadata catalogue for macromolecular and serial crystallography."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from mxicat.errors import MxicatError
from mxicat.ontology import load_ontology

try:
    __version__ = version("mxicat")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["MxicatError", "__version__", "load_ontology"]

"""mxicat: an ICAT-compatible metadata catalogue for macromolecular and serial crystallography."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mxicat.errors import MxicatError

if TYPE_CHECKING:
    from mxicat.ontology import load_ontology

__all__ = ["MxicatError", "__version__", "load_ontology"]


def __getattr__(name: str) -> Any:
    """Attributes resolved on first use (PEP 562), so ``import mxicat.<anything>`` stays light.

    Reading the version from package metadata and loading the ontology package cost about 70 ms at import;
    a remote ICAT client (``mxicat.catalogue.remote``) needs neither.
    """
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("mxicat")
        except PackageNotFoundError:  # running from a source tree that is not installed
            value = "0.0.0+unknown"
    elif name == "load_ontology":
        from mxicat.ontology import load_ontology as value
    else:
        raise AttributeError(f"module 'mxicat' has no attribute {name!r}")
    globals()[name] = value
    return value

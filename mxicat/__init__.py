"""mxicat: an ICAT-compatible metadata catalogue for macromolecular and serial crystallography.

The package root names the public API; everything is imported on first use (PEP 562), so
``import mxicat.<anything>`` stays light (a remote ICAT client needs neither the ontology nor h5py)::

    import mxicat
    with mxicat.open_catalogue("sqlite:///mx.db") as cat:      # an MxCatalogue (embedded or icat+https://)
        cat.register_nexus("run_01_master.h5", "mx2532", beamline="id23eh2")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mxicat.errors import MxicatError

if TYPE_CHECKING:
    from mxicat.catalogue.base import Catalogue
    from mxicat.harvest import harvest_nexus
    from mxicat.harvest.mmcif import import_mmcif
    from mxicat.mx import MxCatalogue, open_catalogue
    from mxicat.ontology import load_ontology
    from mxicat.query.builder import Query

__all__ = [
    "Catalogue",
    "MxCatalogue",
    "MxicatError",
    "Query",
    "__version__",
    "harvest_nexus",
    "import_mmcif",
    "load_ontology",
    "open_catalogue",
]

#: public name -> (module, attribute), imported on first use
_LAZY: dict[str, tuple[str, str]] = {
    "Catalogue": ("mxicat.catalogue.base", "Catalogue"),
    "MxCatalogue": ("mxicat.mx", "MxCatalogue"),
    "Query": ("mxicat.query.builder", "Query"),
    "harvest_nexus": ("mxicat.harvest", "harvest_nexus"),
    "import_mmcif": ("mxicat.harvest.mmcif", "import_mmcif"),
    "load_ontology": ("mxicat.ontology", "load_ontology"),
    "open_catalogue": ("mxicat.mx", "open_catalogue"),
}


def __getattr__(name: str) -> Any:
    """Resolve a public name on first use and keep it."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("mxicat")
        except PackageNotFoundError:  # running from a source tree that is not installed
            value = "0.0.0+unknown"
    elif name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
    else:
        raise AttributeError(f"module 'mxicat' has no attribute {name!r}")
    globals()[name] = value
    return value

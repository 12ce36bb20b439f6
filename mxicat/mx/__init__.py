"""The MX layer: what users call to register, group, find and export MX/SSX data.

``open_catalogue(url)`` gives an :class:`MxCatalogue` on the embedded catalogue (``sqlite:///file.db``) or a
real ICAT (``icat+https://host``); every method works the same on both because it speaks only ICAT entities
and JPQL through the :class:`~mxicat.catalogue.base.Catalogue` protocol.
"""

from __future__ import annotations

from mxicat.mx.collections import Registration
from mxicat.mx.facade import MxCatalogue, open_catalogue
from mxicat.mx.search import DatasetPage

__all__ = ["DatasetPage", "MxCatalogue", "Registration", "open_catalogue"]

"""mxicat.catalogue.remote: a real ICAT (or ``mxicat serve``) reached through ICAT's REST API.

``RemoteIcat(url).login(plugin, credentials)`` gives a :class:`RemoteCatalogue` session, which implements
:class:`mxicat.catalogue.base.Catalogue`. Imports only ``requests`` (no FastAPI, pydantic or SQLAlchemy).
"""

from __future__ import annotations

from mxicat.catalogue.remote.catalogue import RemoteCatalogue, RemoteIcat
from mxicat.catalogue.remote.transport import TransportOptions, icat_base_url

__all__ = ["RemoteCatalogue", "RemoteIcat", "TransportOptions", "icat_base_url"]

"""Harvesting metadata from raw-data files: NeXus/HDF5 (NXmx) masters → canonical, provenance-carrying records.

``harvest_nexus(path)`` is the entry point; it never writes anywhere (the MX layer registers the result).
"""

from __future__ import annotations

from mxicat.harvest.harvester import harvest_nexus
from mxicat.harvest.result import Datafile, HarvestError, HarvestResult, Sweep

__all__ = ["Datafile", "HarvestError", "HarvestResult", "Sweep", "harvest_nexus"]

"""Harvesting metadata from raw-data files: NeXus/HDF5 (NXmx) masters → canonical, provenance-carrying records.

``harvest_nexus(path)`` is the entry point for NXmx masters, ``harvest_dials_expt(path)`` for DIALS experiment
lists (SSX stills), ``harvest(path)`` picks one by content. Nothing here writes anywhere (the MX layer registers
the result).
"""

from __future__ import annotations

from mxicat.harvest.dials import harvest_dials_expt
from mxicat.harvest.harvester import harvest, harvest_nexus
from mxicat.harvest.result import Datafile, HarvestError, HarvestResult, Sweep

__all__ = ["Datafile", "HarvestError", "HarvestResult", "Sweep", "harvest", "harvest_dials_expt", "harvest_nexus"]

"""Federated search across mxicat and PaNOSC sites: peers, concurrent fan-out, merging.

:func:`federate` is the one call the CLI (``mxicat federate``) and the HTTP API
(``GET /api/v1/federation/datasets``) use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mxicat.federation.fanout import SiteResult, fan_out
from mxicat.federation.merge import merge
from mxicat.federation.peers import PeerClient, PeerConfig, check_unique, parse_site, peers_from_settings

__all__ = ["PeerClient", "PeerConfig", "SiteResult", "federate", "parse_site", "peers_from_settings"]

DEFAULT_TIMEOUT = 5.0


def federate(peers: Sequence[PeerConfig] | Sequence[PeerClient], filter_text: str | None = None, *,
             limit: int = 100, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Search datasets on every peer at once; ``{"results": [...], "sites": [...]}``.

    ``results`` are merged and deduplicated (:mod:`mxicat.federation.merge`), at most ``limit``; ``sites``
    has per site ``name``, ``status`` (ok / timeout / error), ``latency_ms``, ``count`` and ``error``.
    Returns at the latest ``timeout`` seconds after the call (plus merging).
    """
    clients = [p if isinstance(p, PeerClient) else PeerClient(p) for p in peers]
    check_unique(c.peer for c in clients)
    results = fan_out(clients, lambda client, t: client.search(filter_text, limit, t), timeout)
    return {"results": merge(results, limit=limit), "sites": [r.status_json() for r in results]}

"""``GET /api/v1/federation/datasets``: the same dataset search on every configured peer, merged.

Peers come from ``Settings.peers``. The caller's token is not used and never forwarded: each peer is
queried anonymously or with that peer's own configured credentials.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from mxicat.federation import federate, peers_from_settings
from mxicat.http.schemas import ERROR_RESPONSES, FederatedOut

router = APIRouter(prefix="/api/v1/federation", tags=["federation"], responses=ERROR_RESPONSES)


@router.get("/datasets", response_model=FederatedOut, summary="Federated dataset search")
def datasets(
    request: Request,
    filter: Annotated[str | None, Query(max_length=4000, description="MX filter language")] = None,  # noqa: A002
    limit: Annotated[int, Query(ge=1, le=1000, description="results kept after merging")] = 100,
    timeout: Annotated[float, Query(gt=0, le=60, description="seconds to wait for the sites")] = 5.0,
) -> dict[str, Any]:
    """Fan ``filter`` out to the configured peers concurrently; merged, deduplicated results tagged with
    their site, and per site ``ok`` / ``timeout`` / ``error`` with latency and count. Answers within
    ``timeout`` seconds whatever the peers do."""
    peers = peers_from_settings(request.app.state.settings.peers)
    return federate(peers, filter, limit=limit, timeout=timeout)

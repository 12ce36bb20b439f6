"""``/api/v1/investigations`` and ``/api/v1/samples``: what the caller may read, for portals."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from mxicat.http.deps import CallerMx
from mxicat.http.schemas import ERROR_RESPONSES, IdPath, InvestigationDetailOut, InvestigationOut, SampleOut
from mxicat.mx import portal

router = APIRouter(prefix="/api/v1", tags=["investigations"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")]


@router.get("/investigations", response_model=list[InvestigationOut], summary="List investigations")
def investigations(mx: CallerMx, name: Annotated[str | None, Query(max_length=255,
                   description="only visits of this proposal")] = None,
                   limit: Limit = 100, offset: Offset = 0) -> list[dict[str, Any]]:
    """Visible investigations (proposal visits) ordered by name and visit."""
    return portal.list_investigations(mx, name=name, limit=limit, offset=offset)


@router.get("/investigations/{investigation_id}", response_model=InvestigationDetailOut,
            summary="Investigation detail")
def investigation(mx: CallerMx, investigation_id: IdPath) -> dict[str, Any]:
    """One investigation with its visible dataset count and samples (404 when not visible)."""
    return portal.investigation_detail(mx, investigation_id)


@router.get("/samples", response_model=list[SampleOut], summary="List samples")
def samples(mx: CallerMx, investigation_id: Annotated[int | None, Query(ge=0, le=2**62, description="only of this "
            "investigation")] = None, limit: Limit = 1000, offset: Offset = 0) -> list[dict[str, Any]]:
    """Visible samples with their investigation and visible dataset counts."""
    return portal.list_samples(mx, investigation_id=investigation_id, limit=limit, offset=offset)

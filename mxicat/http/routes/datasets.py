"""``/api/v1/datasets`` and ``/api/v1/groups`` (reads): portal queries, detail, mmCIF export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from mxicat.http.deps import CallerMx
from mxicat.http.schemas import (
    ERROR_RESPONSES,
    CountOut,
    DatasetDetailOut,
    DatasetPageOut,
    FacetsOut,
    GroupOut,
    IdPath,
)
from mxicat.mx import portal

router = APIRouter(prefix="/api/v1", tags=["datasets"], responses=ERROR_RESPONSES)

FilterParam = Annotated[str | None, Query(
    max_length=4000,
    description='dataset filter language, e.g. `wavelength < 1 angstrom and beamline = id23eh2` '
                '(see docs/http-api.md)')]
MMCIF_TYPE = "chemical/x-mmcif"


@router.get("/datasets", response_model=DatasetPageOut, summary="Search datasets (keyset pages)")
def search(
    mx: CallerMx,
    filter: FilterParam = None,  # noqa: A002 - the public parameter name
    order: Annotated[str, Query(pattern=r"^-?(id|name|start_time|end_time)$",
                                description="id, name, start_time or end_time; '-' for descending")] = "id",
    limit: Annotated[int, Query(ge=1, le=1000, description="page size")] = 50,
    cursor: Annotated[str | None, Query(max_length=4000,
                                        description="opaque cursor from the previous page")] = None,
    count: Annotated[bool, Query(description="also return the total number of matches")] = False,
) -> dict[str, Any]:
    """One page of the visible datasets matching ``filter``, in ``order``; ``cursor`` continues after the
    page's last row (stable under inserts)."""
    page = mx.search_datasets(filter, order=order, limit=limit, cursor=cursor)
    out: dict[str, Any] = {"items": portal.attach_pids(mx, page.items), "cursor": page.cursor}
    if count:
        out["count"] = mx.count_datasets(filter)
    return out


@router.get("/datasets/count", response_model=CountOut, summary="Count datasets")
def count(mx: CallerMx, filter: FilterParam = None) -> CountOut:  # noqa: A002
    """Number of visible datasets matching ``filter``."""
    return CountOut(count=mx.count_datasets(filter))


@router.get("/datasets/facets", response_model=FacetsOut, summary="Facet counts")
def facets(
    mx: CallerMx,
    filter: FilterParam = None,  # noqa: A002
    facet: Annotated[list[str] | None, Query(description="facets to compute (default all): "
                                             + ", ".join(portal.FACETS))] = None,
) -> dict[str, Any]:
    """Per facet (beamline, technique, space group, year, investigation): the values among the visible
    datasets matching ``filter``, each with its count."""
    return {"facets": portal.facets(mx, filter, facet or portal.FACETS), "count": mx.count_datasets(filter)}


@router.get("/datasets/{dataset_id}", response_model=DatasetDetailOut, summary="Dataset detail")
def detail(mx: CallerMx, dataset_id: IdPath) -> dict[str, Any]:
    """Everything about one dataset: parameters in canonical names and units, files, provenance graph,
    groups. A dataset the caller may not read is a 404, exactly as a missing one."""
    found = mx.dataset(dataset_id)
    portal.attach_pids(mx, [found])
    found["parameters"] = portal.parameter_list(found)
    return found


@router.get("/datasets/{dataset_id}/mmcif", summary="Export a dataset as mmCIF",
            response_class=Response, responses={200: {"content": {MMCIF_TYPE: {}}}})
def export(mx: CallerMx, dataset_id: IdPath) -> Response:
    """PDB-deposition mmCIF of the dataset (a processed one with its raw inputs), as a download."""
    text = mx.export_mmcif(dataset_id)
    return Response(text, media_type=MMCIF_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="dataset-{dataset_id}.cif"'})


@router.get("/groups", response_model=list[GroupOut], tags=["groups"], summary="List groups")
def groups(mx: CallerMx, dataset: Annotated[int | None, Query(
        ge=0, le=2**62, description="only groups of this dataset")] = None) -> list[dict[str, Any]]:
    """Visible groups (DataCollections made by the MX layer), optionally of one dataset."""
    return mx.groups(dataset)


@router.get("/groups/{name}/mmcif", tags=["groups"], summary="Export a group as mmCIF",
            response_class=Response, responses={200: {"content": {MMCIF_TYPE: {}}}})
def export_group(mx: CallerMx, name: str) -> Response:
    """mmCIF of a group: one data block per processed member, else one block of its raw members."""
    text = mx.export_mmcif(name, group=True)
    return Response(text, media_type=MMCIF_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="group.cif"'})

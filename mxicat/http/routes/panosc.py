"""``/panosc``: the PaNOSC search API (provider side), read-only and public (anonymous session).

``GET /panosc/{Datasets|Documents|Instruments|Samples|Techniques}`` with ``?filter=<LoopBack JSON>``,
``.../count`` with ``?where=<JSON>``, ``.../{pid}`` (pids may contain ``/``, as DOIs do), and
``/panosc/Datasets/{pid}/files[/count]``. The translation lives in :mod:`mxicat.mx.panosc`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from mxicat.http.deps import AnonymousMx
from mxicat.http.schemas import ERROR_RESPONSES, CountOut
from mxicat.mx import loopback
from mxicat.mx.panosc import PanoscQuery

router = APIRouter(prefix="/panosc", tags=["panosc"], responses=ERROR_RESPONSES)

FilterParam = Annotated[str | None, Query(max_length=20000, description=(
    'LoopBack filter JSON: {"where": {...}, "include": [{"relation": "parameters", "scope": {"where": '
    '{...}}}], "limit": n, "skip": n, "query": "words"}'))]
WhereParam = Annotated[str | None, Query(max_length=20000, description="LoopBack where JSON")]

#: URL collection name -> PaNOSC class
COLLECTIONS: dict[str, str] = {"Datasets": "Dataset", "Documents": "Document", "Instruments": "Instrument",
                               "Samples": "Sample", "Techniques": "Technique"}


def _add(collection: str, kind: str) -> None:
    def find(mx: AnonymousMx, filter: FilterParam = None) -> list[dict[str, Any]]:  # noqa: A002
        return PanoscQuery(mx).find(kind, loopback.parse(filter))

    def count(mx: AnonymousMx, where: WhereParam = None) -> CountOut:
        return CountOut(count=PanoscQuery(mx).count(kind, loopback.parse_where(where)))

    def by_pid(mx: AnonymousMx, pid: str, filter: FilterParam = None) -> dict[str, Any]:  # noqa: A002
        return PanoscQuery(mx).find_by_pid(kind, pid, loopback.parse(filter))

    router.add_api_route(f"/{collection}", find, methods=["GET"], summary=f"Find {collection}",
                         description=f"Public {kind} objects matching the LoopBack filter.")
    router.add_api_route(f"/{collection}/count", count, methods=["GET"], response_model=CountOut,
                         summary=f"Count {collection}")
    if kind == "Dataset":
        def files(mx: AnonymousMx, pid: str, filter: FilterParam = None) -> list[dict[str, Any]]:  # noqa: A002
            flt = loopback.parse(filter)
            found = PanoscQuery(mx).find_by_pid(kind, pid, loopback.Filter(include=(loopback.Include("files"),)))
            hits = [f for f in found["files"] if loopback.matches(f, flt.where, ("name",))]
            return hits[flt.skip:flt.skip + flt.limit]

        def files_count(mx: AnonymousMx, pid: str, where: WhereParam = None) -> CountOut:
            scoped = loopback.parse_where(where)
            found = PanoscQuery(mx).find_by_pid(kind, pid, loopback.Filter(include=(loopback.Include("files"),)))
            return CountOut(count=sum(1 for f in found["files"] if loopback.matches(f, scoped, ("name",))))

        router.add_api_route("/Datasets/{pid:path}/files/count", files_count, methods=["GET"],
                             response_model=CountOut, summary="Count the files of a dataset")
        router.add_api_route("/Datasets/{pid:path}/files", files, methods=["GET"],
                             summary="Files of a dataset")
    router.add_api_route(f"/{collection}/{{pid:path}}", by_pid, methods=["GET"],
                         summary=f"One of the {collection} by pid")


for _collection, _kind in COLLECTIONS.items():
    _add(_collection, _kind)

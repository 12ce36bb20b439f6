"""Merging federated results: one list, deduplicated by DOI (else pid), in one deterministic order.

Every record carries ``site`` (the site whose copy is kept: the first in site order) and ``sites`` (all
sites that returned it). Order: ``name`` case-insensitively, then ``pid``, then ``site`` -- the same answer
whatever the order in which sites replied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mxicat.federation.fanout import SiteResult


def identity(record: dict[str, Any]) -> str:
    """Deduplication key: the DOI (case-insensitive, without a resolver prefix), else the pid."""
    doi = record.get("doi")
    if doi:
        text = str(doi).strip().lower()
        for prefix in ("https://doi.org/", "http://doi.org/", "doi:"):
            if text.startswith(prefix):
                text = text[len(prefix):]
        return f"doi:{text}"
    return f"pid:{record.get('pid')}"


def merge(results: Sequence[SiteResult], *, limit: int | None = None) -> list[dict[str, Any]]:
    """Merged, deduplicated, ordered records of the sites that answered (site order decides the copy kept)."""
    kept: dict[str, dict[str, Any]] = {}
    for res in results:
        for item in res.items:
            key = identity(item)
            if key in kept:
                if res.name not in kept[key]["sites"]:
                    kept[key]["sites"].append(res.name)
                continue
            kept[key] = {**item, "site": res.name, "sites": [res.name]}
    ordered = sorted(kept.values(), key=lambda r: (str(r.get("name") or "").casefold(), str(r.get("pid")),
                                                   r["site"]))
    return ordered[:limit] if limit is not None else ordered

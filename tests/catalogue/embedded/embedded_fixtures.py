"""Fixtures for the embedded catalogue tests (imported by the test modules): a real SQLite file, a small facility."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mxicat.catalogue.embedded.store import EmbeddedCatalogue, EmbeddedStore


@pytest.fixture()
def store(tmp_path: Path) -> Any:
    s = EmbeddedStore(tmp_path / "cat.db", create=True, max_entities=50)
    yield s
    s.close()


@pytest.fixture()
def cat(store: EmbeddedStore) -> EmbeddedCatalogue:
    return store.admin()


@pytest.fixture()
def base(cat: EmbeddedCatalogue) -> dict[str, int]:
    """Facility with types, an enforced and a free ParameterType, one Investigation."""
    fid = cat.create({"Facility": {"name": "ESRF", "fullName": "European Synchrotron"}})
    ids = dict(
        facility=fid,
        itype=cat.create({"InvestigationType": {"name": "MX", "facility": {"id": fid}}}),
        dtype=cat.create({"DatasetType": {"name": "raw", "facility": {"id": fid}}}),
        wavelength=cat.create({"ParameterType": {
            "name": "wavelength", "units": "angstrom", "valueType": "NUMERIC", "facility": {"id": fid},
            "enforced": True, "minimumNumericValue": 0.5, "maximumNumericValue": 2.5}}),
        detector=cat.create({"ParameterType": {
            "name": "detector", "units": "N/A", "valueType": "STRING", "facility": {"id": fid}, "enforced": True,
            "permissibleStringValues": [{"value": "EIGER"}, {"value": "PILATUS"}]}}),
        comment=cat.create({"ParameterType": {"name": "comment", "units": "N/A", "valueType": "STRING",
                                              "facility": {"id": fid}}}),
    )
    ids["inv"] = cat.create({"Investigation": {"name": "mx1234", "visitId": "1", "title": "Lysozyme",
                                               "facility": {"id": fid}, "type": {"id": ids["itype"]}}})
    return ids

"""A seeded embedded catalogue for the HTTP API tests (and benchmarks): two private proposals, one public.

* ``mx1000`` (member ``db/alice``) and ``mx2000`` (member ``db/bob``): private, two raw sweeps each, one
  processed result, one group;
* ``mx0001``: released (``releaseDate`` in the past) -- its raw datasets are public (anonymous can read);
* ``db/ingester`` in the ``ingest`` grouping registers everything; passwords in the ``db`` authenticator.

Everything goes through the Python API (MxCatalogue) on a real SQLite file, with the MX default rules.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mxicat.catalogue.embedded.auth import DbAuthenticator
from mxicat.catalogue.embedded.rules_default import install_policy
from mxicat.catalogue.open import open_embedded_store
from mxicat.mx import MxCatalogue

PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "ingester": "ingest-pw"}


def seed_catalogue(path: Path, *, facility: str = "testsite", public_doi: str | None = None,
                   extra_public: int = 0) -> dict[str, Any]:
    """Create and fill the catalogue file; returns ids by dataset name."""
    store = open_embedded_store(f"sqlite:///{path}")
    root_session = store.admin()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = MxCatalogue(root_session, facility=facility)
        install_policy(root_session)
        auth = DbAuthenticator(store.engine)
        users = {}
        for name, password in PASSWORDS.items():
            users[name] = root_session.create({"User": {"name": f"db/{name}", "fullName": name.title()}})
            auth.set_password(name, password)
        ingest = root_session.search("SELECT g FROM Grouping g WHERE g.name = 'ingest'")[0]["Grouping"]["id"]
        root_session.create({"UserGroup": {"user": {"id": users["ingester"]}, "grouping": {"id": ingest}}})
        root.bootstrap(beamlines=["id23eh2", "id30a3"])
        for name, member in (("mx1000", "alice"), ("mx2000", "bob"), ("mx0001", None)):
            inv = root.registry.create_investigation(name, beamline="id23eh2")
            if member:
                root_session.create({"InvestigationUser": {"investigation": {"id": inv["id"]},
                                                           "user": {"id": users[member]},
                                                           "role": "principal_experimenter"}})
            else:
                root_session.update({"Investigation": {"id": inv["id"], "title": "Public lysozyme",
                                                       "releaseDate": datetime.now() - timedelta(days=30)}})
        ingester = MxCatalogue(store.as_user("db/ingester"), facility=facility)
        ids: dict[str, int] = {}
        for inv, sample, energy_kev in (("mx1000", "alpha", 12.7), ("mx2000", "beta", 13.5),
                                        ("mx0001", "lysozyme", 12.4)):
            runs = []
            for i in range(2):
                name = f"{inv}_run{i}"
                reg = ingester.register_collection(
                    inv, name, {"Sample_name": sample, "wavelength": 0.9 + i / 10,
                                "photon_energy": energy_kev + i},
                    beamline="id23eh2" if i == 0 else "id30a3", start=datetime(2024, 3, 1 + i, 10))
                ids[name] = reg.id
                runs.append(reg.id)
            merged = ingester.register_processed(f"{inv}_merged", inputs=runs, program="xia2",
                                                 values={"resolution_high": 1.8, "space_group": "P 1"})
            ids[f"{inv}_merged"] = merged.id
            ingester.group(f"group_{inv}", runs, kind="multi_sweep")
        for i in range(extra_public):
            reg = ingester.register_collection("mx0001", f"mx0001_extra{i}",
                                               {"Sample_name": "lysozyme", "wavelength": 0.8 + i / 1000},
                                               beamline="id23eh2", start=datetime(2023, 1, 1, 10, 0, i % 60))
            ids[f"mx0001_extra{i}"] = reg.id
        if public_doi:
            root_session.update({"Dataset": {"id": ids["mx0001_run0"], "doi": public_doi}})
    store.close()
    return ids

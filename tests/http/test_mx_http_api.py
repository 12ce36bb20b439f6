"""The MX API over real HTTP: a seeded catalogue behind a ``mxicat serve`` subprocess on 127.0.0.1.

Covers login → bearer token, anonymous vs authenticated visibility, 401/403/404 without leaks, ingest
(JSON collection, multipart mmCIF) → query → detail → export, 422 listing every bad field, facets and
keyset pagination.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from api_seed import PASSWORDS, seed_catalogue  # noqa: E402

from mxicat.http.launcher import ServedProcess, serve_subprocess  # noqa: E402

MMCIF = """data_upload
_software.name XDS
_software.version 'Jan 2024'
_software.classification 'data reduction'
_symmetry.space_group_name_H-M 'P 43 21 2'
_cell.length_a 78.9
_cell.length_b 78.9
_cell.length_c 37.2
_cell.angle_alpha 90
_cell.angle_beta 90
_cell.angle_gamma 90
_reflns.d_resolution_high 1.42
_reflns.d_resolution_low 40.0
_reflns.percent_possible_obs 99.1
_reflns.pdbx_redundancy 7.0
_reflns.pdbx_netI_over_sigmaI 15.2
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedProcess, dict[str, Any]]]:
    path = tmp_path_factory.mktemp("site") / "site.db"
    ids = seed_catalogue(path, public_doi="10.5072/mxicat-test.run0")
    with serve_subprocess({"catalogue": f"sqlite:///{path}", "authenticators": ["db", "anon"]}) as server:
        yield server, ids


def login(url: str, user: str) -> dict[str, str]:
    answer = requests.post(f"{url}/api/v1/auth/login", json={"plugin": "db", "username": user,
                                                             "password": PASSWORDS[user]}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["user_name"] == f"db/{user}"
    return {"Authorization": f"Bearer {body['token']}"}


def names(url: str, headers: dict[str, str] | None = None, **params: Any) -> set[str]:
    answer = requests.get(f"{url}/api/v1/datasets", headers=headers, params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    return {i["name"] for i in answer.json()["items"]}


def test_anonymous_sees_public_data_only(site: tuple[ServedProcess, dict[str, Any]]) -> None:
    server, _ = site
    assert names(server.url) == {"mx0001_run0", "mx0001_run1"}  # released raw data, not the processed one
    me = requests.get(f"{server.url}/api/v1/auth/session", timeout=10).json()
    assert me == {"user_name": "anon/anon", "anonymous": True, "remaining_minutes": None}
    invs = requests.get(f"{server.url}/api/v1/investigations", timeout=10).json()
    assert [i["name"] for i in invs] == ["mx0001"]


def test_each_user_sees_own_investigation_plus_public(site: tuple[ServedProcess, dict[str, Any]]) -> None:
    server, _ = site
    alice, bob = login(server.url, "alice"), login(server.url, "bob")
    assert names(server.url, alice) == {"mx1000_run0", "mx1000_run1", "mx1000_merged", "mx0001_run0",
                                        "mx0001_run1"}
    assert names(server.url, bob, filter="investigation = mx2000") == {"mx2000_run0", "mx2000_run1",
                                                                       "mx2000_merged"}
    assert names(server.url, alice, filter="investigation = mx2000") == set()
    count = requests.get(f"{server.url}/api/v1/datasets/count", headers=bob, timeout=10).json()
    assert count == {"count": 5}
    samples = requests.get(f"{server.url}/api/v1/samples", headers=alice, timeout=10).json()
    assert {s["name"] for s in samples} == {"alpha", "lysozyme"}
    invs = {i["name"]: i for i in requests.get(f"{server.url}/api/v1/investigations", headers=alice,
                                               timeout=10).json()}
    assert set(invs) == {"mx0001", "mx1000"}
    one = requests.get(f"{server.url}/api/v1/investigations/{invs['mx1000']['id']}", headers=alice,
                       timeout=10).json()
    assert one["beamlines"] == ["id23eh2"] and [s["name"] for s in one["samples"]] == ["alpha"]
    assert one["datasets"] >= 3
    hidden = requests.get(f"{server.url}/api/v1/investigations/{invs['mx1000']['id']}", headers=bob, timeout=10)
    assert hidden.status_code == 404


def test_unreadable_is_404_like_missing_and_bad_token_is_401(site: tuple[ServedProcess, dict[str, Any]]
                                                             ) -> None:
    server, ids = site
    alice = login(server.url, "alice")
    hidden = requests.get(f"{server.url}/api/v1/datasets/{ids['mx2000_run0']}", headers=alice, timeout=10)
    missing = requests.get(f"{server.url}/api/v1/datasets/999999", headers=alice, timeout=10)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"] == "NO_SUCH_OBJECT_FOUND"
    assert "mx2000" not in hidden.text
    bad = requests.get(f"{server.url}/api/v1/datasets", headers={"Authorization": "Bearer not-a-session"},
                       timeout=10)
    assert bad.status_code == 401 and bad.json()["code"] == "SESSION"
    anonymous_write = requests.post(f"{server.url}/api/v1/collections",
                                    json={"investigation": "mx1000", "name": "x", "metadata": {}}, timeout=10)
    assert anonymous_write.status_code == 401
    # alice may read the public proposal but not write into it: 403
    forbidden = requests.post(f"{server.url}/api/v1/collections", headers=alice, timeout=10, json={
        "investigation": "mx0001", "name": "alice_in_public", "metadata": {"Sample_name": "lysozyme"}})
    assert forbidden.status_code == 403, forbidden.text
    assert forbidden.json()["code"] == "INSUFFICIENT_PRIVILEGES"
    # ... and a proposal she cannot read does not exist for her: 404
    hidden_write = requests.post(f"{server.url}/api/v1/collections", headers=alice, timeout=10, json={
        "investigation": "mx2000", "name": "sneaky", "metadata": {"Sample_name": "beta"}})
    assert hidden_write.status_code == 404
    logout = requests.delete(f"{server.url}/api/v1/auth/session", headers=alice, timeout=10)
    assert logout.status_code == 204
    assert requests.get(f"{server.url}/api/v1/datasets", headers=alice, timeout=10).status_code == 401


def test_validation_lists_every_bad_field(site: tuple[ServedProcess, dict[str, Any]]) -> None:
    server, _ = site
    ingester = login(server.url, "ingester")
    answer = requests.post(f"{server.url}/api/v1/collections", headers=ingester, timeout=10,
                           json={"investigation": "mx1000", "name": "", "complete": "maybe"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "BAD_PARAMETER"
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "name"), ("body", "metadata"),
                                                         ("body", "complete")}
    strict = requests.post(f"{server.url}/api/v1/collections?strict=true", headers=ingester, timeout=10,
                           json={"investigation": "mx1000", "name": "strict1",
                                 "metadata": {"wavelength": "blue", "photon_energy": "high",
                                              "Sample_name": "alpha"}})
    assert strict.status_code == 422
    assert {e["loc"][-1] for e in strict.json()["errors"]} == {"wavelength", "photon_energy"}
    assert "strict1" not in names(server.url, ingester)  # nothing written


def test_ingest_query_detail_export(site: tuple[ServedProcess, dict[str, Any]]) -> None:
    server, _ = site
    ingester, alice = login(server.url, "ingester"), login(server.url, "alice")
    created = requests.post(f"{server.url}/api/v1/collections", headers=ingester, timeout=30, json={
        "investigation": "mx1000", "name": "mx1000_http1", "beamline": "id23eh2",
        "start": "2025-02-03T04:05:06Z",
        "metadata": {"Sample_name": "alpha", "MX_wavelength": 0.0979, "InstrumentMonochromator_energy": 12.66},
        "units": {"MX_wavelength": "nm"}})
    assert created.status_code == 201, created.text
    reg = created.json()
    assert reg["status"] == "created" and reg["problems"] == []
    again = requests.post(f"{server.url}/api/v1/collections", headers=ingester, timeout=30, json={
        "investigation": "mx1000", "name": "mx1000_http1", "beamline": "id23eh2",
        "start": "2025-02-03T04:05:06Z",
        "metadata": {"Sample_name": "alpha", "MX_wavelength": 0.0979, "InstrumentMonochromator_energy": 12.66},
        "units": {"MX_wavelength": "nm"}})
    assert again.json()["status"] == "unchanged"
    uploaded = requests.post(
        f"{server.url}/api/v1/processed/mmcif", headers=ingester, timeout=30,
        files={"file": ("upload.cif", MMCIF.encode(), "chemical/x-mmcif")},
        data={"metadata": json.dumps({"name": "mx1000_http1_xds", "inputs": [reg["id"]], "program": "XDS"})})
    assert uploaded.status_code == 201, uploaded.text
    processed_id = uploaded.json()["id"]
    # query: alice (member) finds it by resolution and by wavelength given in another unit
    assert "mx1000_http1_xds" in names(server.url, alice, filter="resolution_high < 1.5 angstrom")
    assert names(server.url, alice, filter="wavelength < 0.1 nm and wavelength > 0.97 angstrom") >= {
        "mx1000_http1"}
    # provenance (Jobs) is private to its creator under the default rules: the ingester sees the graph
    graph = requests.get(f"{server.url}/api/v1/datasets/{processed_id}", headers=ingester, timeout=10).json()
    assert graph["provenance"]["inputs"] == [{"id": reg["id"], "name": "mx1000_http1"}]
    detail = requests.get(f"{server.url}/api/v1/datasets/{processed_id}", headers=alice, timeout=10).json()
    assert detail["name"] == "mx1000_http1_xds" and detail["type"] == "processed"
    params = {p["name"]: p for p in detail["parameters"]}
    assert params["resolution_high"]["value"] == pytest.approx(1.42)
    assert params["resolution_high"]["unit"] == "angstrom"
    raw = requests.get(f"{server.url}/api/v1/datasets/{reg['id']}", headers=alice, timeout=10).json()
    assert raw["metadata"]["wavelength"] == pytest.approx(0.979)  # 0.0979 nm stored in angstrom
    assert raw["units"]["wavelength"] == "angstrom"
    export = requests.get(f"{server.url}/api/v1/datasets/{processed_id}/mmcif", headers=alice, timeout=10)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("chemical/x-mmcif")
    assert "attachment" in export.headers["content-disposition"]
    assert "1.42" in export.text and "P 43 21 2" in export.text
    # bob cannot download alice's export
    bob = login(server.url, "bob")
    assert requests.get(f"{server.url}/api/v1/datasets/{processed_id}/mmcif", headers=bob,
                        timeout=10).status_code == 404
    group = requests.post(f"{server.url}/api/v1/groups", headers=ingester, timeout=10,
                          json={"name": "http_group", "datasets": [reg["id"], processed_id], "kind": "merge"})
    assert group.status_code == 201, group.text
    groups = requests.get(f"{server.url}/api/v1/groups", params={"dataset": reg["id"]}, headers=ingester,
                          timeout=10).json()
    assert "http_group" in {g["name"] for g in groups}
    group_cif = requests.get(f"{server.url}/api/v1/groups/http_group/mmcif", headers=ingester, timeout=10)
    assert group_cif.status_code == 200 and "1.42" in group_cif.text
    # a processed result as JSON (ESRF autoprocessing names), strict: accepted as is
    processed = requests.post(f"{server.url}/api/v1/processed?strict=true", headers=ingester, timeout=30, json={
        "name": "mx1000_http1_json", "inputs": ["mx1000_http1"], "program": "autoPROC", "version": "1.0.5",
        "values": {"MXAutoprocIntegrationScaling_overall_resolution_limit_high": 1.61, "space_group": "P 1 21 1"}})
    assert processed.status_code == 201, processed.text
    assert "mx1000_http1_json" in names(server.url, alice, filter='space_group = "P 1 21 1"')
    refused = requests.post(f"{server.url}/api/v1/processed?strict=true", headers=ingester, timeout=30, json={
        "name": "bad_json", "inputs": ["mx1000_http1"], "program": "autoPROC",
        "values": {"resolution_high": "sharp", "r_merge": "low"}})
    assert refused.status_code == 422
    assert {tuple(e["loc"]) for e in refused.json()["errors"]} == {("values", "resolution_high"),
                                                                    ("values", "r_merge")}


def test_facets_and_keyset_pages(site: tuple[ServedProcess, dict[str, Any]]) -> None:
    server, _ = site
    bob = login(server.url, "bob")
    facets = requests.get(f"{server.url}/api/v1/datasets/facets", headers=bob, timeout=10).json()
    assert facets["count"] == 5
    assert {f["value"]: f["count"] for f in facets["facets"]["investigation"]} == {"mx0001": 2, "mx2000": 3}
    assert {f["value"]: f["count"] for f in facets["facets"]["beamline"]} == {"id23eh2": 2, "id30a3": 2}
    assert facets["facets"]["space_group"] == [{"value": "P 1", "count": 1}]
    assert facets["facets"]["year"] == [{"value": 2024, "count": 4}]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "order": "-name"}
        if cursor:
            params["cursor"] = cursor
        page = requests.get(f"{server.url}/api/v1/datasets", headers=bob, params=params, timeout=10).json()
        seen += [i["name"] for i in page["items"]]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 5
    bad = requests.get(f"{server.url}/api/v1/datasets", headers=bob, params={"filter": "wavelength <"},
                       timeout=10)
    assert bad.status_code == 400 and bad.json()["code"] == "BAD_PARAMETER" and "offset" in bad.json()


def test_no_anonymous_access_without_the_anon_authenticator(tmp_path: Path) -> None:
    """In-process (TestClient): a catalogue that does not offer 'anon' refuses anonymous reads with 401."""
    from fastapi.testclient import TestClient

    from mxicat.http.app import create_app
    from mxicat.settings import Settings

    path = tmp_path / "closed.db"
    seed_catalogue(path)
    app = create_app(Settings(catalogue=f"sqlite:///{path}", outbox=tmp_path / "o.db", authenticators=["db"]))
    with TestClient(app) as client:
        for url in ("/api/v1/datasets", "/panosc/Datasets", "/api/v1/auth/session"):
            answer = client.get(url)
            assert answer.status_code == 401 and "anonymous" in answer.json()["message"], url
        token = client.post("/api/v1/auth/login", json={"plugin": "db", "username": "alice",
                                                        "password": PASSWORDS["alice"]}).json()["token"]
        assert client.get("/api/v1/datasets/count", headers={"Authorization": f"Bearer {token}"}).json() == {
            "count": 5}

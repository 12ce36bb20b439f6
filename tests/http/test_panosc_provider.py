"""The PaNOSC search API provider over real HTTP: public data only, LoopBack filters, units, scores."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from api_seed import seed_catalogue  # noqa: E402

from mxicat.http.launcher import serve_subprocess  # noqa: E402

DOI = "10.5072/panosc-test/run0"


@pytest.fixture(scope="module")
def panosc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("panosc") / "site.db"
    seed_catalogue(path, public_doi=DOI)
    with serve_subprocess({"catalogue": f"sqlite:///{path}", "authenticators": ["db", "anon"]}) as server:
        yield f"{server.url}/panosc"


def get(url: str, path: str, flt: dict[str, Any] | None = None, **params: Any) -> Any:
    if flt is not None:
        params["filter"] = json.dumps(flt)
    answer = requests.get(f"{url}{path}", params=params, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def energy_filter(low: float, high: float, unit: str) -> dict[str, Any]:
    return {"include": [{"relation": "parameters", "scope": {"where": {"and": [
        {"name": "photon_energy"}, {"value": {"between": [low, high]}}, {"unit": unit}]}}}]}


def test_only_public_datasets_and_counts(panosc: str) -> None:
    titles = [d["title"] for d in get(panosc, "/Datasets")]
    assert titles == ["mx0001_run0", "mx0001_run1"]
    assert get(panosc, "/Datasets/count") == {"count": 2}
    assert get(panosc, "/Datasets/count", where=json.dumps({"title": {"like": "%run1"}})) == {"count": 1}
    assert all(d["isPublic"] is True for d in get(panosc, "/Datasets"))
    assert [d["title"] for d in get(panosc, "/Documents")] == ["Public lysozyme"]


def test_parameter_scope_converts_units(panosc: str) -> None:
    # run0 has 12.4 keV, run1 13.4 keV (stored in keV); asked in eV, in J-free keV and in MeV
    in_ev = get(panosc, "/Datasets", energy_filter(12000, 12600, "eV"))
    assert [d["title"] for d in in_ev] == ["mx0001_run0"]
    assert in_ev[0]["parameters"] == [{"name": "photon_energy", "value": pytest.approx(12400.0), "unit": "eV"}]
    in_mev = get(panosc, "/Datasets", energy_filter(0.013, 0.014, "MeV"))
    assert [d["title"] for d in in_mev] == ["mx0001_run1"]
    wavelength = {"include": [{"relation": "parameters", "scope": {"where": {"and": [
        {"name": "wavelength"}, {"value": {"lt": 0.095}}, {"unit": "nm"}]}}}]}
    assert [d["title"] for d in get(panosc, "/Datasets", wavelength)] == ["mx0001_run0"]  # 0.9 Å = 0.09 nm
    metres = {"include": [{"relation": "parameters", "scope": {"where": {"and": [
        {"name": "wavelength"}, {"value": {"gt": 9.5e-11}}, {"unit": "m"}]}}}]}
    assert [d["title"] for d in get(panosc, "/Datasets", metres)] == ["mx0001_run1"]  # 1.0 Å


def test_where_include_pid_and_query(panosc: str) -> None:
    flt = {"where": {"or": [{"title": "mx0001_run1"}, {"pid": DOI}]},
           "include": ["documents", "techniques", "instrument", "samples", "files"], "limit": 10}
    found = get(panosc, "/Datasets", flt)
    assert {d["pid"] for d in found} >= {DOI}
    first = next(d for d in found if d["pid"] == DOI)
    assert first["documents"][0]["type"] == "proposal"
    assert first["techniques"][0]["name"] == "MX"
    assert first["instrument"]["name"] == "id23eh2"
    assert first["samples"][0]["name"] == "lysozyme"
    assert get(panosc, f"/Datasets/{DOI}")["title"] == "mx0001_run0"  # a DOI with '/' as path
    by_instrument = get(panosc, "/Datasets", {"include": [{"relation": "instrument",
                                                           "scope": {"where": {"name": "id30a3"}}}]})
    assert [d["title"] for d in by_instrument] == ["mx0001_run1"]
    scored = get(panosc, "/Datasets", {"query": "run1 lysozyme"})
    assert scored and all(0 < d["score"] < 1 for d in scored)
    assert scored[0]["title"] == "mx0001_run1"  # more words found ranks first
    assert get(panosc, "/Datasets", {"limit": 1, "skip": 1})[0]["title"] == "mx0001_run1"
    instruments = get(panosc, "/Instruments", {"where": {"name": {"ilike": "ID23%"}}})
    assert [i["name"] for i in instruments] == ["id23eh2"]
    techniques = get(panosc, "/Techniques", {"include": [{"relation": "datasets"}]})
    assert {d["title"] for d in techniques[0]["datasets"]} == {"mx0001_run0", "mx0001_run1"}


def test_private_and_bad_filters(panosc: str) -> None:
    private = requests.get(f"{panosc}/Datasets", params={"filter": json.dumps({"where": {"title": "mx1000_run0"}})},
                           timeout=10)
    assert private.status_code == 200 and private.json() == []
    missing = requests.get(f"{panosc}/Datasets/mxicat:testsite:dataset:1", timeout=10)
    assert missing.status_code == 404  # exists, but private: same answer as missing
    for bad in ('{"where": ', '{"where": {"title": {"regexp": "x"}}}', '{"bogus": 1}',
                '{"where": {"nofield": 1}}', '{"include": [{"relation": "nope"}]}'):
        answer = requests.get(f"{panosc}/Datasets", params={"filter": bad}, timeout=10)
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["code"] == "BAD_PARAMETER"


def test_constant_fields(panosc: str) -> None:
    assert len(get(panosc, "/Datasets", {"where": {"isPublic": True}})) == 2
    assert get(panosc, "/Datasets", {"where": {"isPublic": False}}) == []
    assert get(panosc, "/Documents/count", where=json.dumps({"type": "proposal"})) == {"count": 1}
    assert get(panosc, "/Documents/count", where=json.dumps({"type": "publication"})) == {"count": 0}
    assert len(get(panosc, "/Samples", {"where": {"description": None}})) == 1


def test_parameter_equality_after_unit_conversion(panosc: str) -> None:
    exact = {"include": [{"relation": "parameters", "scope": {"where": {"and": [
        {"name": "photon_energy"}, {"value": 12400}, {"unit": "eV"}]}}}]}
    assert [d["title"] for d in get(panosc, "/Datasets", exact)] == ["mx0001_run0"]

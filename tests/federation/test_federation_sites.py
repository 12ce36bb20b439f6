"""Federation against real servers: 3 mxicat sites, a PaNOSC view, a slow site and a dead one.

Every site is a ``mxicat serve`` subprocess with its own catalogue file; the PaNOSC view is site 0's
``/panosc`` API queried as a PaNOSC peer; the slow site is a proxy that delays site 2's answers; the dead
site is a port where nothing listens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from fed_support import SHARED_DOI, dead_url, mxicat_sites, slow_proxy  # noqa: E402

from mxicat.federation import PeerConfig, federate, parse_site  # noqa: E402
from mxicat.http.launcher import serve_subprocess  # noqa: E402

TIMEOUT = 3.0
DELAY = 8.0


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("fed")
    with mxicat_sites(root, 3) as servers, slow_proxy(servers[2].url, DELAY) as (slow_url, seen):
        warm_up(servers)
        peers = [PeerConfig("a", servers[0].url), PeerConfig("b", servers[1].url),
                 PeerConfig("c", servers[2].url), PeerConfig("pan", f"{servers[0].url}/panosc", "panosc"),
                 PeerConfig("slow", slow_url), PeerConfig("down", dead_url())]
        yield {"servers": servers, "peers": peers, "seen": seen, "slow_url": slow_url}


def warm_up(servers: list[Any]) -> None:
    """First requests load the ontology and unit registry in each server: not what is measured here."""
    for server in servers:
        for path in ("/api/v1/datasets?filter=wavelength%20%3C%201", "/panosc/Datasets?filter=%7B%7D"):
            assert requests.get(f"{server.url}{path}", timeout=60).status_code == 200


def test_merged_results_statuses_and_deadline(sites: dict[str, Any]) -> None:
    start = time.monotonic()
    answer = federate(sites["peers"], "wavelength < 0.95 angstrom", timeout=TIMEOUT)
    elapsed = time.monotonic() - start
    assert elapsed < TIMEOUT + 0.5  # the slow site is not waited for
    status = {s["name"]: s for s in answer["sites"]}
    assert [s["name"] for s in answer["sites"]] == ["a", "b", "c", "pan", "slow", "down"]
    assert {n: status[n]["status"] for n in status} == {"a": "ok", "b": "ok", "c": "ok", "pan": "ok",
                                                         "slow": "timeout", "down": "error"}
    assert status["slow"]["latency_ms"] >= TIMEOUT * 1000 * 0.9 and f"{TIMEOUT:g} s" in status["slow"]["error"]
    assert "ConnectionError" in status["down"]["error"] or "refused" in status["down"]["error"].lower()
    # each mxicat site returns its one public run0 (wavelength 0.9 Å); the PaNOSC view returns site a's
    assert {n: status[n]["count"] for n in ("a", "b", "c", "pan")} == {"a": 1, "b": 1, "c": 1, "pan": 1}
    results = answer["results"]
    shared = [r for r in results if r["doi"] == SHARED_DOI]
    assert len(shared) == 1 and shared[0]["site"] == "a" and shared[0]["sites"] == ["a", "b", "pan"]
    assert [r["site"] for r in results] == ["a", "c"]
    assert results == sorted(results, key=lambda r: (r["name"].casefold(), r["pid"], r["site"]))


def test_same_answer_whatever_the_site_order(sites: dict[str, Any]) -> None:
    live = [p for p in sites["peers"] if p.name in ("a", "b", "c")]
    one = federate(live, None, timeout=10)
    two = federate(list(reversed(live)), None, timeout=10)
    key = [(r["pid"], r["name"]) for r in one["results"]]
    assert key == [(r["pid"], r["name"]) for r in two["results"]]
    assert len(one["results"]) == 5  # 2 public raw datasets per site, the shared DOI counted once


def test_panosc_peer_gets_translated_filter_or_a_reason(sites: dict[str, Any]) -> None:
    pan = [p for p in sites["peers"] if p.name == "pan"]
    energy = federate(pan, "photon_energy > 13 keV", timeout=10)
    assert [r["name"] for r in energy["results"]] == ["mx0001_run1"]
    refused = federate(pan, "not wavelength < 1", timeout=10)
    assert refused["sites"][0]["status"] == "error" and "PaNOSC" in refused["sites"][0]["error"]


def test_cli_json_output(sites: dict[str, Any]) -> None:
    servers = sites["servers"]
    args = [sys.executable, "-m", "mxicat", "federate", "sample_name = lysozyme", "--format", "json",
            "--timeout", str(TIMEOUT), "--site", f"a={servers[0].url}", "--site", f"b={servers[1].url},mxicat",
            "--site", f"slow={sites['slow_url']}", "--site", f"down={dead_url()}"]
    start = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) == {"results", "sites"}
    assert {s["name"]: s["status"] for s in body["sites"]} == {"a": "ok", "b": "ok", "slow": "timeout",
                                                               "down": "error"}
    assert set(body["sites"][0]) == {"name", "status", "latency_ms", "count", "error"}
    assert len(body["results"]) == 3  # a: run0 (shared DOI), run1; b: its own run1
    assert elapsed < TIMEOUT + 10  # interpreter start-up + the deadline; the slow site is not awaited


def test_http_endpoint_never_forwards_the_callers_token(sites: dict[str, Any], tmp_path: Path) -> None:
    peers = [{"name": "a", "url": sites["servers"][0].url},
             {"name": "slow", "url": sites["slow_url"]}]
    before = len(sites["seen"])
    with serve_subprocess({"catalogue": f"sqlite:///{tmp_path / 'hub.db'}", "peers": peers}) as hub:
        answer = requests.get(f"{hub.url}/api/v1/federation/datasets",
                              params={"filter": "investigation = mx0001", "timeout": 1},
                              headers={"Authorization": "Bearer caller-secret-token"}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {s["name"]: s["status"] for s in body["sites"]} == {"a": "ok", "slow": "timeout"}
    assert {r["site"] for r in body["results"]} == {"a"}
    received = sites["seen"][before:]
    assert received and all("authorization" not in h for h in received)
    assert all("caller-secret-token" not in json.dumps(h) for h in received)


def test_a_peer_is_asked_with_its_own_credentials(sites: dict[str, Any]) -> None:
    url = sites["servers"][0].url
    anonymous = federate([PeerConfig("a", url)], "investigation = mx1000", timeout=10)
    assert anonymous["results"] == [] and anonymous["sites"][0]["status"] == "ok"
    as_alice = federate([PeerConfig("a", url, username="alice", password="alice-pw", plugin="db")],
                        "investigation = mx1000", timeout=10)
    assert {r["name"] for r in as_alice["results"]} == {"mx1000_run0", "mx1000_run1", "mx1000_merged"}
    wrong = federate([PeerConfig("a", url, username="alice", password="nope", plugin="db")], None, timeout=10)
    assert wrong["sites"][0]["status"] == "error" and "SessionError" in wrong["sites"][0]["error"]


def test_site_syntax() -> None:
    assert parse_site("esrf=https://x.example/api,panosc") == PeerConfig("esrf", "https://x.example/api",
                                                                         "panosc")
    for bad in ("nourl", "a=ftp://x", "a=http://x,other"):
        with pytest.raises(Exception, match="NAME=URL|http|kind"):
            parse_site(bad)


def test_cli_table_output(sites: dict[str, Any]) -> None:
    from click.testing import CliRunner

    from mxicat.cli import cli as main

    url = sites["servers"][0].url
    result = CliRunner().invoke(main, ["federate", "--site", f"a={url}", "--site", f"down={dead_url()}",
                                       "--format", "table", "--timeout", "5"])
    assert result.exit_code == 0, result.output
    assert "mx0001_run0" in result.output and "down" in result.output and "error" in result.output
    empty = CliRunner().invoke(main, ["federate"], env={"MXICAT_CONFIG": "/nonexistent.toml"})
    assert empty.exit_code != 0 and "no sites" in empty.output

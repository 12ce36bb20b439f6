"""Merging, fan-out deadline and MX-filter → LoopBack translation, without servers."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mxicat.errors import BadParameterError
from mxicat.federation import PeerClient, PeerConfig
from mxicat.federation.fanout import SiteResult, fan_out
from mxicat.federation.merge import identity, merge
from mxicat.federation.translate import to_loopback


def rec(name: str, pid: str, doi: str | None = None) -> dict[str, Any]:
    return {"name": name, "pid": pid, "doi": doi}


def test_dedup_by_doi_then_pid_and_one_order() -> None:
    a = SiteResult("a", "ok", 1.0, [rec("Zeta", "a:1", "10.1/X"), rec("alpha", "a:2")])
    b = SiteResult("b", "ok", 1.0, [rec("zeta copy", "b:9", "https://doi.org/10.1/x"), rec("Beta", "a:2")])
    merged = merge([a, b])
    assert [(r["name"], r["site"], r["sites"]) for r in merged] == [
        ("alpha", "a", ["a", "b"]), ("Zeta", "a", ["a", "b"])]
    assert merge([b, a])[1]["site"] == "b"  # the copy kept is the first site's in site order
    assert [r["pid"] for r in merge([b, a])] == ["a:2", "b:9"]
    assert identity(rec("x", "p", "doi:10.1/X")) == identity(rec("y", "q", "10.1/x"))
    assert len(merge([a, b], limit=1)) == 1


class FakeClient(PeerClient):
    """A peer answering after ``delay`` seconds (or failing), to test the fan-out without sockets."""

    def __init__(self, name: str, delay: float, fail: bool = False) -> None:
        super().__init__(PeerConfig(name, f"http://{name}.invalid"))
        self.delay, self.fail = delay, fail

    def search(self, filter_text: str | None, limit: int, timeout: float) -> list[dict[str, Any]]:
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("boom")
        return [rec(self.peer.name, f"{self.peer.name}:1")]


def test_fan_out_returns_at_the_deadline_with_statuses() -> None:
    clients = [FakeClient("fast", 0.01), FakeClient("slow", 5.0), FakeClient("bad", 0.01, fail=True)]
    start = time.monotonic()
    results = fan_out(clients, lambda c, t: c.search(None, 10, t), timeout=0.5)
    elapsed = time.monotonic() - start
    assert elapsed < 0.9
    assert [(r.name, r.status, len(r.items)) for r in results] == [("fast", "ok", 1), ("slow", "timeout", 0),
                                                                   ("bad", "error", 0)]
    assert "RuntimeError: boom" in str(results[2].error)
    assert results[1].latency_ms >= 450


def test_fan_out_does_not_wait_when_everyone_answered() -> None:
    start = time.monotonic()
    results = fan_out([FakeClient("a", 0.05), FakeClient("b", 0.1)], lambda c, t: c.search(None, 1, t), 10.0)
    assert time.monotonic() - start < 1.0
    assert all(r.status == "ok" for r in results)


def test_translation_to_loopback() -> None:
    assert to_loopback(None) == {}
    lb = to_loopback('photon_energy > 12 keV and beamline = id23eh2 and name like "lyso%"')
    assert lb["where"] == {"title": {"like": "lyso%"}}
    assert {"relation": "instrument", "scope": {"where": {"name": "id23eh2"}}} in lb["include"]
    params = next(i for i in lb["include"] if i["relation"] == "parameters")
    assert params["scope"]["where"] == {"and": [{"name": "photon_energy"}, {"value": {"gt": 12}},
                                                {"unit": "keV"}]}
    # a term without a written unit is sent in its canonical unit
    wl = to_loopback("InstrumentMonochromator_wavelength < 1")["include"][0]["scope"]["where"]["and"]
    assert wl == [{"name": "wavelength"}, {"value": {"lt": 1}}, {"unit": "angstrom"}]
    assert to_loopback("name = a or name = b")["where"] == {"or": [{"title": "a"}, {"title": "b"}]}
    for bad in ("not name = a", "wavelength < 1 or beamline = x", 'in_group("g")'):
        with pytest.raises(BadParameterError, match="PaNOSC"):
            to_loopback(bad)

"""Federated peer sites: configuration and one client per site kind.

A peer is ``(name, url, kind, own credentials)``: kind ``mxicat`` (another ``mxicat serve``; ``url`` is its
root, the MX API is at ``/api/v1``) or ``panosc`` (any PaNOSC search API; ``url`` is its base, e.g.
``https://host/panosc`` or ``https://icatplus.esrf.fr/api``). Peers come from ``Settings.peers`` or the
command line (``NAME=URL[,kind]``).

Only the peer's OWN configured credentials are ever sent to it: clients are built from the peer
configuration alone and never see the caller's request, token or session.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from mxicat.errors import BadParameterError, UnavailableError, translate_icat_error

KINDS = ("mxicat", "panosc")


@dataclass(frozen=True)
class PeerConfig:
    """One peer site."""

    name: str
    url: str
    kind: str = "mxicat"
    username: str | None = None
    password: str | None = None
    plugin: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadParameterError(f"peer {self.name!r}: kind must be one of {', '.join(KINDS)}, "
                                    f"got {self.kind!r}")
        if not self.url.startswith(("http://", "https://")):
            raise BadParameterError(f"peer {self.name!r}: URL must start with http:// or https://, "
                                    f"got {self.url!r}")


def parse_site(text: str) -> PeerConfig:
    """``NAME=URL[,kind]`` (command line form) as a :class:`PeerConfig`."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise BadParameterError(f"--site {text!r}: expected NAME=URL[,kind]")
    url, _, kind = rest.partition(",")
    return PeerConfig(name.strip(), url.strip().rstrip("/"), (kind.strip() or "mxicat").lower())


def peers_from_settings(peers: Iterable[Any]) -> list[PeerConfig]:
    """:class:`PeerConfig` objects from ``Settings.peers`` entries (secrets unwrapped here, at the edge)."""
    out = []
    for p in peers:
        password = p.password.get_secret_value() if getattr(p, "password", None) is not None else None
        out.append(PeerConfig(p.name, p.url.rstrip("/"), p.kind, p.username, password, p.plugin))
    return out


def check_unique(peers: Iterable[PeerConfig]) -> list[PeerConfig]:
    """The peers, refusing two with the same name (results are tagged by name)."""
    found: dict[str, PeerConfig] = {}
    for peer in peers:
        if peer.name in found:
            raise BadParameterError(f"two peers named {peer.name!r}")
        found[peer.name] = peer
    return list(found.values())


class PeerClient:
    """Runs a dataset search on one peer; returns normalised records (see :func:`record`)."""

    def __init__(self, peer: PeerConfig) -> None:
        self.peer = peer
        self._token: str | None = None

    def _get(self, path: str, params: Mapping[str, Any], timeout: float) -> Any:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            answer = requests.get(f"{self.peer.url}{path}", params=params, headers=headers,
                                  timeout=(min(timeout, 5.0), timeout))
        except requests.Timeout as err:
            raise TimeoutError(f"no answer within {timeout:g} s") from err
        except requests.RequestException as err:
            raise UnavailableError(f"{type(err).__name__}: {err}") from err
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = {"message": answer.text[:200]}
            raise translate_icat_error(body if isinstance(body, dict) else None, status=answer.status_code)
        try:
            return answer.json()
        except ValueError as err:
            raise UnavailableError(f"answer is not JSON (HTTP {answer.status_code})") from err

    def _login(self, timeout: float) -> None:
        if self._token or not self.peer.username or self.peer.kind != "mxicat":
            return
        body = {"plugin": self.peer.plugin or "db", "username": self.peer.username,
                "password": self.peer.password or ""}
        try:
            answer = requests.post(f"{self.peer.url}/api/v1/auth/login", json=body,
                                   timeout=(min(timeout, 5.0), timeout))
        except requests.RequestException as err:
            raise UnavailableError(f"login: {type(err).__name__}: {err}") from err
        if answer.status_code >= 400:
            raise translate_icat_error(answer.json() if answer.headers.get("content-type", "").startswith(
                "application/json") else None, status=answer.status_code)
        self._token = str(answer.json()["token"])

    def search(self, filter_text: str | None, limit: int, timeout: float) -> list[dict[str, Any]]:
        """Datasets of this peer matching an MX filter (translated for PaNOSC peers)."""
        deadline = time.monotonic() + timeout
        self._login(timeout)
        remaining = max(0.05, deadline - time.monotonic())
        if self.peer.kind == "mxicat":
            params: dict[str, Any] = {"limit": limit}
            if filter_text:
                params["filter"] = filter_text
            page = self._get("/api/v1/datasets", params, remaining)
            return [record(self.peer.name, i) for i in page.get("items", [])]
        from mxicat.federation.translate import to_loopback

        lb = to_loopback(filter_text)
        lb["limit"] = limit
        lb.setdefault("include", []).extend(
            [{"relation": "instrument"}, {"relation": "parameters"}, {"relation": "documents"}])
        items = self._get("/Datasets", {"filter": json.dumps(lb)}, remaining)
        if not isinstance(items, list):
            raise UnavailableError("PaNOSC answer is not a list")
        return [panosc_record(self.peer.name, i) for i in items]


def record(site: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """A merged-result record from an mxicat dataset summary."""
    return {"site": site, "pid": item.get("pid") or f"{site}:{item.get('id')}", "doi": item.get("doi"),
            "name": item.get("name"), "investigation": item.get("investigation"),
            "beamline": item.get("beamline"), "type": item.get("type"), "sample": item.get("sample"),
            "start_time": item.get("start_time"), "metadata": item.get("metadata") or {}}


def panosc_record(site: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """A merged-result record from a PaNOSC Dataset (with instrument, parameters, documents)."""
    pid = str(item.get("pid") or "")
    instrument = item.get("instrument") or {}
    documents = item.get("documents") or []
    params = {str(p.get("name")): p.get("value") for p in item.get("parameters") or [] if p.get("name")}
    return {"site": site, "pid": pid, "doi": pid if pid.startswith("10.") else None, "name": item.get("title"),
            "investigation": documents[0].get("title") if documents else None,
            "beamline": instrument.get("name") if isinstance(instrument, Mapping) else None, "type": None,
            "sample": None, "start_time": item.get("creationDate"), "metadata": params,
            **({"score": item["score"]} if "score" in item else {})}

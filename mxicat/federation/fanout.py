"""Concurrent fan-out to peer sites with one deadline: partial results plus a status per site.

Each site runs in its own daemon thread; the caller waits until every site has answered or the deadline
(``timeout`` seconds after the start) has passed, whichever comes first, and never longer: a site still
running at the deadline is reported as ``timeout`` and its thread is abandoned (its HTTP call has the same
timeout, so it ends on its own shortly after). A site that fails is ``error`` with the reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mxicat.federation.peers import PeerClient


@dataclass
class SiteResult:
    """What one site contributed."""

    name: str
    status: str = "timeout"  # ok | timeout | error
    latency_ms: float = 0.0
    items: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def status_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "latency_ms": round(self.latency_ms, 1),
                "count": len(self.items), "error": self.error}


def fan_out(clients: Sequence[PeerClient], call: Callable[[PeerClient, float], list[dict[str, Any]]],
            timeout: float) -> list[SiteResult]:
    """Run ``call(client, timeout)`` for every client concurrently; return at the latest at the deadline.

    Results are in the order of ``clients``.
    """
    start = time.monotonic()
    results = [SiteResult(c.peer.name) for c in clients]
    finished = threading.Semaphore(0)
    lock = threading.Lock()
    answered = [False] * len(clients)
    closed = [False]  # set at the deadline: later answers are ignored

    def run(index: int, client: PeerClient) -> None:
        outcome: tuple[str, list[dict[str, Any]], str | None]
        try:
            items = call(client, timeout)
            outcome = ("ok", items, None)
        except TimeoutError as err:
            outcome = ("timeout", [], str(err) or f"no answer within {timeout:g} s")
        except Exception as err:  # noqa: BLE001 - a peer's failure is reported, never raised
            outcome = ("error", [], f"{type(err).__name__}: {err}")
        with lock:
            if not closed[0]:
                res = results[index]
                res.status, res.items, res.error = outcome
                res.latency_ms = (time.monotonic() - start) * 1000
                answered[index] = True
        finished.release()

    for index, client in enumerate(clients):
        threading.Thread(target=run, args=(index, client), daemon=True,
                         name=f"mxicat-federate-{client.peer.name}").start()
    deadline = start + timeout
    for _ in clients:
        if not finished.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break
    with lock:
        closed[0] = True
        for res, done in zip(results, answered, strict=True):
            if not done:  # still running: give up now
                res.latency_ms = (time.monotonic() - start) * 1000
                res.error = f"no answer within {timeout:g} s"
                res.items = []
        return [SiteResult(r.name, r.status, r.latency_ms, list(r.items), r.error) for r in results]

"""The store-and-forward outbox: durable, deduplicated, backing off, never losing an item."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from mxicat.errors import UnavailableError, ValidationError
from mxicat.ingest.outbox import Outbox


def test_put_is_deduplicated_and_survives_reopen(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out.db")
    assert box.put("collection", {"name": "a"}, key="inv/a")
    assert not box.put("collection", {"name": "a"}, key="inv/a")
    assert box.put("collection", {"name": "b"}, key="inv/b")
    again = Outbox(tmp_path / "out.db")
    assert [item.key for item in again.items()] == ["inv/a", "inv/b"]
    assert len(again) == 2


def test_flush_delivers_in_order_and_removes(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out.db")
    for i in range(5):
        box.put("collection", {"i": i}, key=f"k{i}")
    seen: list[int] = []
    report = box.flush(lambda kind, payload: seen.append(payload["i"]))
    assert seen == [0, 1, 2, 3, 4]
    assert (report.delivered, report.retrying, report.failed) == (5, 0, 0)
    assert box.items() == []


def test_unreachable_target_backs_off_and_keeps_everything(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out.db", base_delay=10)
    for i in range(3):
        box.put("collection", {"i": i}, key=f"k{i}")
    calls: list[Any] = []

    def down(kind: str, payload: dict[str, Any]) -> None:
        calls.append(payload)
        raise UnavailableError("catalogue unreachable")

    t0 = time.time() + 1
    report = box.flush(down, now=t0)
    assert len(calls) == 1  # stops at the first unreachable error
    assert report.retrying == 3 and report.delivered == 0
    first = box.items()[0]
    assert first.attempts == 1 and first.next_attempt == pytest.approx(t0 + 10)
    assert "unreachable" in (first.last_error or "")
    # not due yet for the first one: the others are tried next round
    assert box.flush(down, now=t0 + 1).retrying == 2
    delivered: list[int] = []
    report = box.flush(lambda k, p: delivered.append(p["i"]), now=t0 + 10_000)
    assert sorted(delivered) == [0, 1, 2] and report.delivered == 3 and box.items() == []


def test_permanent_error_is_parked_with_reason(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out.db")
    box.put("collection", {"bad": True}, key="bad")
    box.put("collection", {"bad": False}, key="good")

    def handler(kind: str, payload: dict[str, Any]) -> None:
        if payload["bad"]:
            raise ValidationError("wavelength -1 out of range")

    report = box.flush(handler)
    assert (report.delivered, report.failed) == (1, 1)
    (parked,) = box.items(state="failed")
    assert parked.key == "bad" and "VALIDATION" in (parked.last_error or "")
    assert box.retry_failed() == 1 and len(box) == 1

"""Store-and-forward for registrations made while the catalogue (or broker) is unreachable.

An :class:`Outbox` is a small SQLite file: each pending registration is one row written in its own
transaction, so a crash never loses or half-writes one. :meth:`Outbox.flush` replays due items through a
handler; a handler that raises :class:`~mxicat.errors.UnavailableError` (or ``OSError``/``ConnectionError``)
means "try later" and the item backs off exponentially; any other :class:`~mxicat.errors.MxicatError` means
the item can never succeed and it is parked as ``failed`` with the reason (kept, never deleted silently).
Registrations are idempotent in the MX layer (same content → no-op), and each item carries a key so the same
registration queued twice is stored once: replaying after a crash between "registered" and "removed from the
outbox" therefore changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mxicat.errors import MxicatError, UnavailableError

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt);
"""

Handler = Callable[[str, dict[str, Any]], None]
"""Called with (kind, payload); returns normally once the registration is committed."""


@dataclass(frozen=True)
class OutboxItem:
    """One queued registration."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    created: float
    attempts: int
    next_attempt: float
    state: str
    last_error: str | None


@dataclass(frozen=True)
class FlushReport:
    """What one :meth:`Outbox.flush` did."""

    delivered: int
    retrying: int
    failed: int


class Outbox:
    """A durable queue of registrations (one SQLite file)."""

    def __init__(self, path: str | Path, *, base_delay: float = 2.0, max_delay: float = 600.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.base_delay = base_delay
        self.max_delay = max_delay
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            yield conn
        finally:
            conn.close()

    def put(self, kind: str, payload: dict[str, Any], *, key: str) -> bool:
        """Queue a registration; False when one with the same key is already queued."""
        text = json.dumps(payload, sort_keys=True, default=str)
        now = time.time()
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO outbox (key, kind, payload, created, next_attempt) VALUES (?, ?, ?, ?, ?)",
                (key, kind, text, now, now),
            )
            return cur.rowcount == 1

    def items(self, *, state: str | None = None) -> list[OutboxItem]:
        """Queued items, oldest first (all states unless one is named)."""
        sql = "SELECT id, key, kind, payload, created, attempts, next_attempt, state, last_error FROM outbox"
        params: tuple[Any, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            params = (state,)
        with self._connect() as conn:
            rows = conn.execute(sql + " ORDER BY id", params).fetchall()
        return [OutboxItem(r[0], r[1], r[2], json.loads(r[3]), *r[4:]) for r in rows]

    def __len__(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0])

    def flush(self, handler: Handler, *, now: float | None = None, include_not_due: bool = False) -> FlushReport:
        """Deliver due items through ``handler``; stop retrying this round at the first unreachable error."""
        delivered = retrying = failed = 0
        moment = time.time() if now is None else now
        for item in self.items(state="pending"):
            if not include_not_due and item.next_attempt > moment:
                continue
            try:
                handler(item.kind, item.payload)
            except (UnavailableError, ConnectionError, OSError) as err:
                self._defer(item, str(err), moment)
                retrying += 1
                # the target is down: the rest would fail the same way; they keep their schedule
                retrying += sum(1 for other in self.items(state="pending") if other.id > item.id)
                break
            except MxicatError as err:
                self._park(item, f"{err.code}: {err}")
                failed += 1
            else:
                with self._connect() as conn:
                    conn.execute("DELETE FROM outbox WHERE id = ?", (item.id,))
                delivered += 1
        return FlushReport(delivered=delivered, retrying=retrying, failed=failed)

    def retry_failed(self) -> int:
        """Put parked items back in the queue (after the cause was fixed); returns how many."""
        with self._connect() as conn:
            cur = conn.execute(
                "UPDATE outbox SET state = 'pending', next_attempt = ?, attempts = 0 WHERE state = 'failed'",
                (time.time(),),
            )
            return cur.rowcount

    def _defer(self, item: OutboxItem, error: str, now: float) -> None:
        delay = min(self.max_delay, self.base_delay * 2 ** item.attempts)
        with self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ?",
                (now + delay, error, item.id),
            )

    def _park(self, item: OutboxItem, error: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error, item.id),
            )

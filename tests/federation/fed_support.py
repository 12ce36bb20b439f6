"""Helpers of the federation tests and benchmark: seeded mxicat sites, a slow proxy, a dead address."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))

from api_seed import seed_catalogue  # noqa: E402

from mxicat.http.launcher import ServedProcess, free_port, serve_subprocess  # noqa: E402

SHARED_DOI = "10.5072/federated-dedup"


@contextmanager
def slow_proxy(target: str, delay: float) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An HTTP proxy on 127.0.0.1 that waits ``delay`` seconds, then forwards GETs to ``target``.

    Yields ``(url, seen)``: ``seen`` collects the headers of every request it received.
    """
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            seen.append({k.lower(): v for k, v in self.headers.items()})
            time.sleep(delay)
            try:
                upstream = requests.get(f"{target}{self.path}", timeout=30)
                body = upstream.content
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (OSError, requests.RequestException):
                pass  # the client gave up first, or the site behind is gone

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def dead_url() -> str:
    """An address where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def mxicat_sites(root: Path, count: int, *, extra_public: int = 0,
                 settings: dict[str, Any] | None = None) -> Iterator[list[ServedProcess]]:
    """``count`` seeded mxicat sites (``site0``...), each its own catalogue file and process.

    Sites 0 and 1 hold the same public dataset DOI (:data:`SHARED_DOI`) so merging must deduplicate it.
    """
    with ExitStack() as stack:
        servers = []
        for i in range(count):
            path = root / f"site{i}.db"
            seed_catalogue(path, facility=f"site{i}", public_doi=SHARED_DOI if i < 2 else None,
                           extra_public=extra_public)
            servers.append(stack.enter_context(serve_subprocess({"catalogue": f"sqlite:///{path}",
                                                                 "authenticators": ["db", "anon"],
                                                                 **(settings or {})})))
        yield servers

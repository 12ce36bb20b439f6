"""serve_subprocess: a served catalogue answers; a server that cannot start is reported with its output."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from mxicat.errors import UnavailableError
from mxicat.http.launcher import serve_subprocess


def test_served_process_answers_and_stops(tmp_path: Path) -> None:
    settings = {"catalogue": f"sqlite:///{tmp_path / 'cat.db'}", "max_entities": 33, "outbox": tmp_path / "o.db"}
    with serve_subprocess(settings) as served:
        assert served.icat_url == f"icat+http://127.0.0.1:{served.port}"
        assert requests.get(f"{served.url}/icat/properties", timeout=5).json()["maxEntities"] == 33
    assert served.process.poll() is not None  # terminated at exit


def test_failed_start_reports_the_servers_output(tmp_path: Path) -> None:
    with pytest.raises(UnavailableError, match="unknown catalogue URL"):
        with serve_subprocess({"catalogue": "postgres://db/x", "outbox": tmp_path / "o.db"}, ready_timeout=60):
            pass

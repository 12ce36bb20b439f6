"""Fixtures of the MX layer tests: an administrator MxCatalogue on a fresh embedded catalogue file."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from mx_support import open_mx

from mxicat.mx import MxCatalogue


@pytest.fixture
def mx(tmp_path: Path) -> Iterator[MxCatalogue]:
    """Administrator session on a new SQLite catalogue file, investigation ``mx2532`` on ``id23eh2``."""
    cat = open_mx(tmp_path / "mx.db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cat.ensure_investigation("mx2532", beamline="id23eh2")
    yield cat
    cat.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """(``icat+http://127.0.0.1:<port>``, root credentials) of a ``mxicat serve`` subprocess."""
    from mx_support import serve

    with serve(tmp_path_factory.mktemp("served")) as served_at:
        yield served_at

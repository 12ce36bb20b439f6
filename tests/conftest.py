"""Fixtures shared by the whole suite.

Real facility files live in ``../shared/testdata`` beside the repository (never copied in). Tests that
need them use :func:`shared_file`; when the folder is absent they skip with the reason, unless
``MXICAT_REQUIRE_SHARED=1`` (set by ``.ci/run``), where a missing file is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO_ROOT.parent / "shared" / "testdata"


def shared_file(*parts: str) -> Path:
    """Path of a file under ``../shared/testdata``; skip (or fail when required) if it is missing."""
    path = SHARED_TESTDATA.joinpath(*parts)
    if not path.exists():
        reason = f"shared test data not found: {path}"
        if os.environ.get("MXICAT_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " (MXICAT_REQUIRE_SHARED=1)")
        pytest.skip(reason)
    return path


@pytest.fixture
def shared() -> type:
    """Access to shared test data: ``shared.file("nxmx", "x", "y.nxs")``."""

    class _Shared:
        root = SHARED_TESTDATA
        file = staticmethod(shared_file)

    return _Shared

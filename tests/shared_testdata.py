"""Where the real facility files live: ``../shared/testdata`` beside the repository (never copied in).

Import it by this unique name (``from shared_testdata import shared_file``); several test folders have a
``conftest.py`` of their own, so ``from conftest import ...`` would depend on collection order.
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

"""Fixtures shared by the whole suite.

Real facility files live in ``../shared/testdata`` beside the repository (never copied in). Tests reach them
through the ``shared`` fixture (or ``from shared_testdata import shared_file``); when the folder is absent
they skip with the reason, unless ``MXICAT_REQUIRE_SHARED=1`` (set by ``.ci/run``), where a missing file is a
failure.
"""

from __future__ import annotations

import pytest
from shared_testdata import SHARED_TESTDATA, shared_file


@pytest.fixture
def shared() -> type:
    """Access to shared test data: ``shared.file("nxmx", "x", "y.nxs")``."""

    class _Shared:
        root = SHARED_TESTDATA
        file = staticmethod(shared_file)

    return _Shared

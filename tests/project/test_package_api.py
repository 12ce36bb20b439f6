"""The package root exposes the public API named in its ``__all__``, lazily."""

from __future__ import annotations

import subprocess
import sys

import mxicat


def test_every_public_name_resolves() -> None:
    for name in mxicat.__all__:
        assert getattr(mxicat, name) is not None, name
    assert callable(mxicat.open_catalogue) and callable(mxicat.harvest_nexus)
    assert issubclass(mxicat.MxicatError, Exception)


def test_import_stays_light() -> None:
    code = "import sys, mxicat; print(sorted(m for m in ('h5py', 'pint', 'sqlalchemy', 'fastapi') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

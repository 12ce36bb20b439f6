"""``mxicat serve`` is registered and documented; it is run for real by tests/contract (subprocess)."""

from __future__ import annotations

from click.testing import CliRunner

from mxicat.cli import cli


def test_serve_help() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "--port" in result.output and "Example" in result.output

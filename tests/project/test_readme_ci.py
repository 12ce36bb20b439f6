"""The README's fresh-machine commands and .ci/run must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _console_commands(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```console\n(.*?)```", text, flags=re.S)]


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    head = readme[: readme.index("## What you can do")]
    quick, tests = _console_commands(head)[:2]
    assert quick == "pip install . && mxicat quickstart"
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert tests in ci_lines, f".ci/run must run the README's test command exactly: {tests}"
    assert "export MXICAT_REQUIRE_SHARED=1" in ci_lines


def test_every_documented_page_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\((docs/[^)]+)\)", readme):
        assert (ROOT / link).is_file(), f"README links to missing {link}"

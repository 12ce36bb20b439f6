"""State shared by CLI commands: the global options and lazily built settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import click

from mxicat.settings import Settings


@dataclass
class CliContext:
    """Global CLI options; commands read ``settings`` (CLI > env > file > defaults)."""

    catalogue_url: str | None = None
    debug: bool = False
    overrides: dict[str, object] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        values: dict[str, object] = dict(self.overrides)
        if self.catalogue_url:
            values["catalogue"] = self.catalogue_url
        return Settings(**values)  # type: ignore[arg-type]


pass_cli = click.make_pass_decorator(CliContext, ensure=True)

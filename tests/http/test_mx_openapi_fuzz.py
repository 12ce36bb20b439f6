"""schemathesis over the service's OpenAPI schema (MX API, PaNOSC provider): no input gives a 500.

Runs in-process (ASGI) on a seeded catalogue, with a bounded number of examples per operation. Write
operations are exercised without a token (they must answer 401/422, never 500); the federation endpoint
has no peers configured here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

sys.path.insert(0, str(Path(__file__).parent))

from api_seed import seed_catalogue  # noqa: E402

from mxicat.http.app import create_app  # noqa: E402
from mxicat.settings import Settings  # noqa: E402


def test_no_server_errors(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    seed_catalogue(path, public_doi="10.5072/fuzz")
    app = create_app(Settings(catalogue=f"sqlite:///{path}", outbox=tmp_path / "outbox.db",
                              authenticators=["db", "anon"]))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/(api/v1|panosc)/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        check()

"""schemathesis over the service's OpenAPI schema (MX API, PaNOSC provider): no input gives a 500.

Runs in-process (ASGI) on a seeded catalogue, with a bounded number of examples per operation. Write
and read operations run as the ingest account, so generated bodies and filters reach the MX layer;
anonymous visibility is covered by the real-HTTP tests. The federation endpoint has no peers here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

sys.path.insert(0, str(Path(__file__).parent))

from api_seed import PASSWORDS, seed_catalogue  # noqa: E402

from mxicat.catalogue.open import open_embedded_store  # noqa: E402
from mxicat.http.app import create_app  # noqa: E402
from mxicat.settings import Settings  # noqa: E402


def test_no_server_errors(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    seed_catalogue(path, public_doi="10.5072/fuzz")
    app = create_app(Settings(catalogue=f"sqlite:///{path}", outbox=tmp_path / "outbox.db",
                              authenticators=["db", "anon"]))
    store = open_embedded_store(f"sqlite:///{path}")
    token = store.sessions.login("db", {"username": "ingester", "password": PASSWORDS["ingester"]})
    store.close()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/(api/v1|panosc)/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        # as the ingest account (generated bodies and filters reach the MX layer instead of stopping at 401),
        # except logout, which would end the session for the rest of the run
        headers = {"Authorization": f"Bearer {token}"} if operation.method.upper() != "DELETE" else {}
        fuzz(operation, headers)


def fuzz(operation: Any, headers: dict[str, str]) -> None:
    """Generated requests for one operation; a 500 fails the test."""

    @given(case=operation.as_strategy())
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()

"""ICAT REST JSON value encoding: dates both directions, NaN, field-name driven decoding."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType

import pytest

from mxicat.catalogue import jsonfmt
from mxicat.errors import BadParameterError


def test_format_date_matches_icat() -> None:
    assert jsonfmt.format_date(datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))) == (
        "2024-05-01T12:00:00.000+02:00"
    )
    assert jsonfmt.format_date(datetime(2024, 5, 1, 10, 0, 0, 999999, tzinfo=UTC)) == "2024-05-01T10:00:00.999Z"
    assert jsonfmt.format_date(datetime(2024, 5, 1, 10)) == "2024-05-01T10:00:00.000Z"  # naive = UTC


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T12:00:00.000+02:00",
        "2024-05-01T10:00:00.000Z",
        "2024-05-01T12:00:00.000+0200",
        "2024-05-01T10:00:00Z",
    ],
)
def test_parse_date_variants_are_the_same_instant(text: str) -> None:
    value = jsonfmt.parse_date(text)
    assert value.tzinfo is not None
    assert value == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert jsonfmt.parse_date(jsonfmt.format_date(value)) == value


@pytest.mark.parametrize("text", ["2024-05-01", "2024-05-01T10:00", "01/05/2024", "2024-05-01T10:00:00.000"])
def test_strict_parse_rejects_what_icat_rejects(text: str) -> None:
    with pytest.raises(BadParameterError, match="Badly formatted date"):
        jsonfmt.parse_date(text, strict=True, field="startDate")


def test_decode_entity_only_touches_date_fields() -> None:
    obj = {"DatasetParameter": {"stringValue": "2024-05-01T10:00:00.000Z", "dateTimeValue": "2024-05-01T10:00:00.000Z",
                                "type": {"id": 1, "createTime": "2024-05-01T10:00:00.000Z"}}}
    out = jsonfmt.decode_entity(obj)["DatasetParameter"]
    assert out["stringValue"] == "2024-05-01T10:00:00.000Z"
    assert isinstance(out["dateTimeValue"], datetime)
    assert isinstance(out["type"]["createTime"], datetime)


def test_dates_decimals_and_unsendable_values() -> None:
    assert jsonfmt.to_json({"startDate": date(2024, 5, 1), "x": Decimal("0.5")}) == {
        "startDate": "2024-05-01T00:00:00.000Z", "x": 0.5}
    with pytest.raises(BadParameterError, match="set"):
        jsonfmt.dumps({"x": {1, 2}})


def test_to_json_nan_and_nested() -> None:
    data = {"a": [math.nan, datetime(2024, 1, 1, tzinfo=UTC)], "b": (1, math.inf)}
    assert jsonfmt.to_json(data) == {"a": [None, "2024-01-01T00:00:00.000Z"], "b": [1, None]}
    assert jsonfmt.dumps({"x": 1}) == '{"x":1}'


def test_date_fields_match_the_embedded_schema() -> None:
    """The client's static list must be exactly the schema's datetime fields (no SQLAlchemy on the client)."""
    schema = pytest.importorskip("mxicat.catalogue.embedded.schema")
    fields = {f.name for info in schema.ENTITIES.values() for f in info.fields.values() if f.type == "datetime"}
    assert fields == set(jsonfmt.DATE_FIELDS)


def test_equal_instants_in_other_zones_keep_their_zone() -> None:
    """Formatted dates are cached; equal instants in different zones (equal, same hash) must not share text."""
    utc = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    paris = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert utc == paris
    assert jsonfmt.format_date(utc) == "2024-05-01T12:00:00.000Z"
    assert jsonfmt.format_date(paris) == "2024-05-01T14:00:00.000+02:00"
    assert jsonfmt.format_date(datetime(2024, 5, 1, 12, 0)) == "2024-05-01T12:00:00.000Z"  # naive = UTC


def test_dumps_fast_and_full_paths_agree() -> None:
    """The C encoder path (dates, Decimals, mappings by hook) and the NaN fallback give ICAT's encoding."""
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    value = {"Dataset": {"id": 1, "startDate": when, "x": Decimal("1.5"), "m": MappingProxyType({"d": when})}}
    fast = json.loads(jsonfmt.dumps(value))
    assert fast == {"Dataset": {"id": 1, "startDate": "2024-05-01T12:00:00.000Z", "x": 1.5,
                                "m": {"d": "2024-05-01T12:00:00.000Z"}}}
    with_nan = json.loads(jsonfmt.dumps({**value["Dataset"], "v": float("nan"), "w": [float("inf")]}))
    assert with_nan["v"] is None and with_nan["w"] == [None] and with_nan["startDate"] == fast["Dataset"]["startDate"]
    with pytest.raises(BadParameterError, match="set"):
        jsonfmt.dumps({"s": {1, 2}})

"""search_datasets / count_datasets over a built catalogue, keyset paging, and dataset groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mxicat.errors import BadParameterError, NoSuchObjectFoundError, ValidationError
from mxicat.mx import MxCatalogue, groups

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

T0 = datetime(2024, 3, 1, 10, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture
def filled(mx: MxCatalogue) -> MxCatalogue:
    """12 raw collections: wavelengths 0.90..1.01 Å, 3 samples, start times with shared seconds."""
    for i in range(12):
        meta = {"Sample_name": ["lysozyme", "lyso-b", "thaumatin"][i % 3], "wavelength": 0.90 + 0.01 * i,
                "MX_numberOfImages": 100 * (i + 1)}
        start = None if i in (4, 9) else T0 + timedelta(seconds=i // 2)  # pairs share one second
        mx.register_collection("mx2532", f"ds_{i:02d}", meta, beamline="id23eh2" if i < 8 else "id29",
                               start=start)
    return mx


def names(page: object) -> list[str]:
    return [d["name"] for d in page]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wavelength < 0.93 angstrom", 3),
        ("wavelength < 0.093 nm", 3),
        ("wavelength >= 1 angstrom", 2),
        ("not wavelength >= 1 angstrom", 10),
        ("photon_energy > 1 keV", 0),
        ("wavelength = 0.95", 1),
        ("wavelength != 0.95", 11),
        ("sample_name like 'lyso%'", 8),
        ("sample_name not like 'lyso%'", 4),
        ("sample_name in ('lysozyme', 'thaumatin')", 8),
        ("beamline = ID29", 4),
        ("beamline = id23eh2 and sample_name = thaumatin", 2),
        ("start_time >= 2024-03-01 and start_time < 2024-03-02", 10),
        ("start_time = 2024-03-01", 10),
        ("start_time is null", 2),
        ("start_time > 2024-03-01T10:00:03Z", 3),
        ("start_time <= 2024-03-01T10:00:01", 4),
        ("number_of_images > 1000 or (sample_name = lyso-b and wavelength < 0.95)", 4),
        ("investigation = mx2532 and type = raw", 12),
        ("has(number_of_images)", 12),
        ("name like 'ds_0%'", 10),
        ("id > 0", 12),
    ],
)
def test_filters_count_and_page_agree(filled: MxCatalogue, text: str, expected: int) -> None:
    assert filled.count_datasets(text) == expected
    assert len(filled.search_datasets(text, limit=50)) == expected


def test_search_items_carry_canonical_metadata(filled: MxCatalogue) -> None:
    (item,) = filled.search_datasets("name = ds_03").items
    assert item["investigation"] == "mx2532" and item["type"] == "raw"
    assert item["metadata"]["wavelength"] == pytest.approx(0.93)
    assert item["metadata"]["number_of_images"] == 400
    assert item["sample"] == "lysozyme" and item["beamline"] == "id23eh2"


@pytest.mark.parametrize("order", ["id", "-id", "name", "-name", "start_time", "-start_time",
                                   "end_time"])
@pytest.mark.parametrize("limit", [1, 3, 5])
def test_keyset_pages_cover_everything_once_in_order(filled: MxCatalogue, order: str, limit: int) -> None:
    everything = names(filled.search_datasets(None, order=order, limit=100))
    assert len(everything) == 12
    paged: list[str] = []
    cursor = None
    while True:
        page = filled.search_datasets(None, order=order, limit=limit, cursor=cursor)
        paged.extend(names(page))
        cursor = page.cursor
        if cursor is None:
            break
    assert paged == everything
    if order.lstrip("-") == "start_time":
        starts = [d["start_time"] for d in filled.search_datasets(None, order=order, limit=100)]
        dated = [s for s in starts if s is not None]
        assert dated == sorted(dated, reverse=order.startswith("-"))
        assert starts[-2:] == [None, None]  # undated last


def test_cursor_is_stable_under_inserts(filled: MxCatalogue) -> None:
    first = filled.search_datasets(None, order="name", limit=4)
    filled.register_collection("mx2532", "aaa_new", {"Sample_name": "x"})
    second = filled.search_datasets(None, order="name", limit=100, cursor=first.cursor)
    assert not set(names(first)) & set(names(second))
    assert "aaa_new" not in names(second)


def test_bad_filters_and_orders(filled: MxCatalogue) -> None:
    with pytest.raises(BadParameterError) as info:
        filled.count_datasets("wavelength < 1 kg")
    assert info.value.offset == 15
    with pytest.raises(BadParameterError, match="did you mean wavelength"):
        filled.count_datasets("wavelenght < 1")
    with pytest.raises(BadParameterError, match="order"):
        filled.search_datasets(None, order="sample")
    with pytest.raises(BadParameterError, match="cursor"):
        filled.search_datasets(None, order="name", cursor=filled.search_datasets(None, limit=1).cursor)


def test_injection_attempts_are_plain_values(filled: MxCatalogue) -> None:
    filled.register_collection("mx2532", "o'brien", {"Sample_name": "x' OR '1'='1"})
    assert names(filled.search_datasets("name = \"o'brien\"")) == ["o'brien"]
    assert filled.count_datasets("sample_name = \"x' OR '1'='1\"") == 1
    assert filled.count_datasets("sample_name = \"y' OR '1'='1\"") == 0


def test_group_create_extend_and_search(filled: MxCatalogue) -> None:
    ids = [d["id"] for d in filled.search_datasets("sample_name = lysozyme")]
    made = filled.group("lyso-merge", ids[:2], kind="multi_crystal", parameters={"space_group": "P 43 21 2",
                                                                                "merge_note": "first"})
    assert made["size"] == 2
    assert filled.count_datasets('in_group("lyso-merge")') == 2
    extended = filled.group("lyso-merge", ids, kind="multi_crystal")
    assert extended["id"] == made["id"] and extended["size"] == len(ids)
    with pytest.raises(BadParameterError, match="kind"):
        filled.group("lyso-merge", ids, kind="merge")
    with pytest.raises(BadParameterError, match="kind must be"):
        filled.group("other", ids, kind="pile")
    (listed,) = filled.groups()
    assert listed["name"] == "lyso-merge" and listed["size"] == len(ids)
    assert listed["parameters"]["merge_note"] == "first"
    assert [g["name"] for g in filled.dataset(ids[0])["groups"]] == ["lyso-merge"]


def test_group_spanning_investigations_links_them(filled: MxCatalogue) -> None:
    filled.ensure_investigation("mx2600", beamline="id29")
    other = filled.register_collection("mx2600", "ds_other", {"Sample_name": "x"}).id
    mine = filled.search_datasets("name = ds_00").items[0]["id"]
    made = filled.group("cross", [mine, other], kind="merge")
    assert len(made["investigations"]) == 2
    links = filled.session.search(
        f"SELECT COUNT(dci) FROM DataCollectionInvestigation dci WHERE dci.dataCollection.id = {made['id']}")
    assert links == [2]


def test_large_group_is_written_in_chunks(mx: MxCatalogue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(groups, "CHUNK", 7)
    iid = mx.investigation("mx2532")["id"]
    tid = mx.registry.dataset_type("raw")
    ids = mx.session.create_many([{"Dataset": {"name": f"c{i}", "complete": True, "investigation": {"id": iid},
                                               "type": {"id": tid}}} for i in range(30)])
    made = mx.group("ssx", ids, kind="ssx_chunks")
    assert made["size"] == 30 and mx.count_datasets("in_group('ssx')") == 30


def test_pages_shrink_under_a_small_max_entities(tmp_path: Path) -> None:
    from mxicat.catalogue.embedded.store import EmbeddedStore

    store = EmbeddedStore(tmp_path / "small.db", create=True, max_entities=60)
    mx = MxCatalogue(store.admin())
    mx.ensure_investigation("mx1", beamline="id29")
    for i in range(7):
        mx.register_collection("mx1", f"d{i}", {"Sample_name": "s", "wavelength": 1 + i / 10,
                                                "MX_numberOfImages": 10, "MX_exposureTime": 0.1,
                                                "MX_detectorDistance": 200, "MX_transmission": 5})
    with pytest.raises(ValidationError):  # the plain INCLUDE query of 7 datasets is refused
        mx.session.search("SELECT ds FROM Dataset ds INCLUDE ds.parameters p, p.type")
    assert names(mx.search_datasets(None, limit=100)) == [f"d{i}" for i in range(7)]
    paged, cursor = [], None
    while True:
        page = mx.search_datasets(None, order="-name", limit=3, cursor=cursor)
        paged += names(page)
        if (cursor := page.cursor) is None:
            break
    assert paged == [f"d{i}" for i in reversed(range(7))]
    assert mx.dataset("d3")["metadata"]["wavelength"] == pytest.approx(1.3)


@pytest.mark.parametrize("ref", ["¹", "²3"])
def test_non_ascii_digit_references_are_names(filled: MxCatalogue, ref: str) -> None:
    """A reference made of Unicode digits int() refuses is a (missing) name, not a crash (found by schemathesis)."""
    with pytest.raises(NoSuchObjectFoundError):
        filled.group("g-unicode", [ref], kind="merge")

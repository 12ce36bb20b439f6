"""The same MX API over real HTTP: MxCatalogue on ``mxicat serve`` through the remote ICAT REST backend."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from mx_support import write_mmcif, write_nxmx

from mxicat.errors import BadParameterError, NoSuchObjectFoundError
from mxicat.mx import MxCatalogue, open_catalogue

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def remote(served: tuple[str, dict[str, str]]) -> MxCatalogue:
    url, credentials = served
    cat = open_catalogue(url, credentials=credentials)
    assert cat.kind == "icat"
    return cat


def test_register_search_group_and_export_over_http(remote: MxCatalogue, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv = remote.ensure_investigation("mx4000", beamline="id30a1")
        regs = [remote.register_nexus(write_nxmx(tmp_path / f"s{i}_master.h5", sample="insulin",
                                                 wavelength=0.9 + i / 100), inv, beamline="id30a1")[0]
                for i in range(3)]
    assert {r.status for r in regs} == {"created"}
    again = remote.register_nexus(tmp_path / "s0_master.h5", inv, beamline="id30a1")
    assert again[0].status == "unchanged"
    cif = write_mmcif(tmp_path / "merged.cif", program="AIMLESS", version="0.7.9", d_min=1.7)
    proc = remote.register_processed("remote_merge", inputs=[r.id for r in regs], mmcif=cif)
    detail = remote.dataset(proc.id)
    assert sorted(d["id"] for d in detail["provenance"]["inputs"]) == sorted(r.id for r in regs)
    assert detail["metadata"]["resolution_high"] == pytest.approx(1.7)
    assert remote.count_datasets("wavelength < 0.915 angstrom and investigation = mx4000") == 2
    pages, cursor = [], None
    while True:
        page = remote.search_datasets("investigation = mx4000", order="name", limit=2, cursor=cursor)
        pages.append([d["name"] for d in page])
        cursor = page.cursor
        if cursor is None:
            break
    assert [n for p in pages for n in p] == sorted(["s0_master", "s1_master", "s2_master", "remote_merge"])
    made = remote.group("remote-group", [r.id for r in regs], kind="multi_sweep")
    assert made["size"] == 3 and remote.count_datasets("in_group('remote-group')") == 3
    text = remote.export_mmcif("remote_merge")
    assert "_reflns.d_resolution_high" in text and "AIMLESS" in text


def test_large_group_costs_few_requests(remote: MxCatalogue, served: tuple[str, dict[str, str]]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inv = remote.ensure_investigation("mx4001", beamline="id29")
    tid = remote.registry.dataset_type("raw")
    ids = remote.session.create_many([
        {"Dataset": {"name": f"chunk_{i:05d}", "complete": True, "investigation": {"id": inv["id"]},
                     "type": {"id": tid}}} for i in range(6000)])
    url, credentials = served
    with open_catalogue(url, credentials=credentials) as fresh:  # cold: facility and types looked up too
        transport = fresh.session.server.transport  # type: ignore[attr-defined]
        before = transport.requests_sent
        made = fresh.group("ssx-remote", ids, kind="ssx_chunks")
        used = transport.requests_sent - before
    assert made["size"] == 6000 and len(made["investigations"]) == 1
    assert used <= 10, used


def test_remote_errors_are_the_same_classes(remote: MxCatalogue) -> None:
    with pytest.raises(NoSuchObjectFoundError):
        remote.dataset(10**9)
    with pytest.raises(BadParameterError) as info:
        remote.count_datasets("wavelength <")
    assert info.value.offset == 12


def test_remote_missing_investigation_is_a_clear_error_without_create_rights(
        served: tuple[str, dict[str, str]]) -> None:
    from mxicat.catalogue.embedded.rules_default import install_policy
    from mxicat.errors import InsufficientPrivilegesError

    url, root = served
    jdoe = {"plugin": "simple", "username": "jdoe", "password": "jdoe-pw"}
    with open_catalogue(url, credentials=jdoe) as cat:
        with pytest.raises(InsufficientPrivilegesError, match="sees no Facility"):
            cat.ensure_investigation("mx4999", beamline="id29")
    with open_catalogue(url, credentials=root) as admin:
        install_policy(admin.session)  # reference tables readable, investigations not creatable by jdoe
    with open_catalogue(url, credentials=jdoe) as cat:
        with pytest.raises(NoSuchObjectFoundError, match="may not create it"):
            cat.ensure_investigation("mx4999", beamline="id29")

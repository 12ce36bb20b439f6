"""The ontology's NXmx paths against real NeXus files (shared test data) and a small file built here.

Every HDF5 dataset of a file whose path the ontology knows must carry a unit (``@units``) that converts
to the term's canonical unit; the core fields of each layout must be found.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from mxicat.ontology import Ontology, load_ontology
from mxicat.ontology.units import convert_magnitude, normalise_unit_text

FILES = {
    "Therm_6_2": ("nxmx", "dls_i04_rotation_Therm_6_2", "Therm_6_2.nxs"),
    "dectris": ("nxmx", "dectris_eiger9m_fw1.6", "dectris_eiger_master.h5"),
    "i16": ("nxmx", "dls_i16_sixcircle_538039", "538039.nxs"),
}
#: fields every one of these layouts has (standards.md §1.2), by term
CORE = {"wavelength", "exposure_time", "sensor_material", "sensor_thickness"}
#: groups located by class (their names vary between writers); modules and axes keep their names
CLASS_NAMED = {"NXentry", "NXsubentry", "NXinstrument", "NXdetector", "NXbeam", "NXsample", "NXsource",
               "NXattenuator", "NXtransformations"}


@pytest.fixture(scope="module")
def ont() -> Ontology:
    return load_ontology()


def _mapped(ont: Ontology, path: Path) -> dict[str, tuple[str, str | None]]:
    """HDF5 dataset path → (term, @units) for every dataset the ontology knows."""
    found: dict[str, tuple[str, str | None]] = {}

    def visit(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset):
            term = ont.by_nxmx(_class_path(handle, name))
            if term is not None:
                found[name] = (term.name, _text(obj.attrs.get("units")))

    with h5py.File(path, "r") as handle:
        handle.visititems(visit)
    return found


def _text(value: object) -> str | None:
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else None
    if isinstance(value, bytes | np.bytes_):
        value = value.decode()
    return None if value is None else str(value)


def _class_path(handle: h5py.File, name: str) -> str:
    """``entry1/instrument/pil100k/count_time`` → ``NXentry/NXinstrument/NXdetector/count_time``."""
    parts = name.split("/")
    out = []
    for i, part in enumerate(parts[:-1]):
        nx_class = _text(handle["/".join(parts[: i + 1])].attrs.get("NX_class"))
        out.append(nx_class if nx_class in CLASS_NAMED else part)
    return "/".join([*out, parts[-1]])


def _check_units(ont: Ontology, mapped: dict[str, tuple[str, str | None]]) -> None:
    for path, (name, units) in mapped.items():
        term = ont.terms[name]
        if units is None or not term.numeric:
            continue
        try:
            convert_magnitude(1.0, normalise_unit_text(units), term.unit)
        except ValueError as err:
            pytest.fail(f"{path} (@units {units!r}) cannot become {name} [{term.unit}]: {err}")


@pytest.mark.parametrize("key", sorted(FILES))
def test_real_files(shared: type, ont: Ontology, key: str) -> None:
    mapped = _mapped(ont, shared.file(*FILES[key]))
    assert CORE <= {term for term, _ in mapped.values()}, key
    _check_units(ont, mapped)


def test_gda_layout(shared: type, ont: Ontology) -> None:
    terms = {term for term, _ in _mapped(ont, shared.file(*FILES["Therm_6_2"])).values()}
    assert {"facility", "source_type", "flux", "transmission", "beam_center_x", "detector_distance",
            "pixel_size_x", "oscillation_end", "oscillation_width", "start_time", "end_time"} <= terms


def test_built_nxmx_file(tmp_path: Path, ont: Ontology) -> None:
    path = tmp_path / "tiny.nxs"
    with h5py.File(path, "w") as f:
        entry = f.create_group("entry1")
        entry.create_dataset("start_time", data="2024-01-01T00:00:00Z")
        beam = entry.create_group("instrument/beam")
        beam.create_dataset("incident_wavelength", data=0.1).attrs["units"] = "nm"
        beam.create_dataset("total_flux", data=1e12).attrs["units"] = "Hz"
        det = entry.create_group("instrument/eiger")  # named freely, found by class
        det.attrs["NX_class"] = "NXdetector"
        entry["instrument"].attrs["NX_class"] = np.array([b"NXinstrument"])  # i16 style 1-element array
        det.create_dataset("distance", data=[0.2]).attrs["units"] = "m"
        det.create_dataset("count_time", data=0.01).attrs["units"] = "s"
        det.create_dataset("sensor_material", data="CdTe")
        det.create_dataset("sensor_thickness", data=0.75).attrs["units"] = "mm"
        module = det.create_group("pil100k_module")
        module.create_dataset("fast_pixel_direction", data=0.172).attrs["units"] = "mm"
        trans = entry.create_group("sample/transformations")
        trans.create_dataset("phi", data=np.arange(5.0)).attrs["units"] = "deg"
        trans.create_dataset("phi_end", data=np.arange(1.0, 6.0)).attrs["units"] = "deg"
        trans.create_dataset("kappa", data=[30.0]).attrs["units"] = "deg"
    mapped = _mapped(ont, path)
    assert {p: t for p, (t, _) in mapped.items()} == {
        "entry1/start_time": "start_time",
        "entry1/instrument/beam/incident_wavelength": "wavelength",
        "entry1/instrument/beam/total_flux": "flux",
        "entry1/instrument/eiger/distance": "detector_distance",
        "entry1/instrument/eiger/count_time": "exposure_time",
        "entry1/instrument/eiger/sensor_material": "sensor_material",
        "entry1/instrument/eiger/sensor_thickness": "sensor_thickness",
        "entry1/instrument/eiger/pil100k_module/fast_pixel_direction": "pixel_size_x",
        "entry1/sample/transformations/phi": "oscillation_start",
        "entry1/sample/transformations/phi_end": "oscillation_end",
        "entry1/sample/transformations/kappa": "kappa_start",
    }
    _check_units(ont, mapped)
    assert ont.convert("pixel_size_x", 0.172, "mm") == pytest.approx(172.0)
    assert ont.by_nxmx("/NXentry/NXinstrument/NXdetector/count_time").name == "exposure_time"  # type: ignore[union-attr]
    assert ont.by_nxmx("/entry/experiment_0/instrument/beam/incident_wavelength") is None  # DIALS subentry
    assert ont.by_nxmx("NXentry/NXsubentry/NXinstrument/NXbeam/incident_wavelength").name == "wavelength"  # type: ignore[union-attr]

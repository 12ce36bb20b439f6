"""The bundled example: a small, self-made MX experiment that ``mxicat quickstart`` registers.

Nothing here is facility data: :func:`write_example` *writes* an NXmx master file (one rotation sweep of a
lysozyme-like crystal on an Eiger 9M, with its frames held in a data file that is deliberately not shipped,
as on a beamline whose data files have been archived) and the PDBx/mmCIF of its processing, through the same
exporter users get. :func:`load_example` then pushes it through the public API exactly as a user would:
harvest + register the raw sweep, register the processed result with provenance, group them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from mxicat.mx.mmcif_export import ExportRecord, export_mmcif

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue

PROPOSAL = "mx0001"
BEAMLINE = "id23eh2"
SAMPLE = "lyso-example-1"
FRAMES = 1800
OSCILLATION = 0.1  # degrees per frame
WAVELENGTH = 0.9763  # angstrom
START_TIME = "2024-03-01T10:00:00+01:00"
END_TIME = "2024-03-01T10:03:00+01:00"

#: processing statistics of the example (made up, plausible for tetragonal lysozyme)
PROCESSED: dict[str, Any] = {
    "space_group": "P 43 21 2",
    "cell_a": 78.9, "cell_b": 78.9, "cell_c": 37.1, "cell_alpha": 90.0, "cell_beta": 90.0, "cell_gamma": 90.0,
    "resolution_low": 39.45, "resolution_high": 1.52,
    "completeness": 99.7, "multiplicity": 6.6, "mean_i_over_sigma": 14.2,
    "r_merge": 0.061, "r_meas": 0.066, "r_pim": 0.026, "cc_half": 0.998,
    "resolution_low_inner": 39.45, "resolution_high_inner": 4.12, "completeness_inner": 99.1,
    "r_merge_inner": 0.031, "cc_half_inner": 0.999,
    "resolution_low_outer": 1.55, "resolution_high_outer": 1.52, "completeness_outer": 97.9,
    "r_merge_outer": 0.842, "cc_half_outer": 0.61,
}
SOFTWARE = [{"name": "XDS", "version": "Jan 10, 2024", "classification": "data reduction"},
            {"name": "XSCALE", "version": "Jan 10, 2024", "classification": "data scaling"}]


@dataclass(frozen=True)
class ExampleFiles:
    """Where the example was written."""

    directory: Path
    master: Path
    mmcif: Path


@dataclass
class ExampleReport:
    """What :func:`load_example` registered (statuses are ``created`` or ``unchanged`` on a re-run)."""

    raw: list[dict[str, Any]] = field(default_factory=list)
    processed: dict[str, Any] = field(default_factory=dict)
    group: dict[str, Any] = field(default_factory=dict)


def _field(group: h5py.Group, name: str, value: Any, units: str | None = None, **attrs: Any) -> None:
    data = group.create_dataset(name, data=value)
    if units:
        data.attrs["units"] = units
    for key, val in attrs.items():
        data.attrs[key] = val


def _nx(parent: h5py.Group, name: str, nx_class: str) -> h5py.Group:
    group = parent.create_group(name)
    group.attrs["NX_class"] = nx_class
    return group


def write_master(path: Path) -> Path:
    """An NXmx master file of one rotation sweep (omega), frames in a missing external data file."""
    with h5py.File(path, "w") as f:
        entry = _nx(f, "entry", "NXentry")
        entry.create_dataset("definition", data="NXmx")
        entry.create_dataset("start_time", data=START_TIME)
        entry.create_dataset("end_time", data=END_TIME)
        instrument = _nx(entry, "instrument", "NXinstrument")
        instrument.create_dataset("name", data="ID23-2").attrs["short_name"] = BEAMLINE
        source = _nx(entry, "source", "NXsource")
        source.create_dataset("name", data="European Synchrotron Radiation Facility").attrs["short_name"] = "ESRF"
        source.create_dataset("type", data="Synchrotron X-ray Source")
        beam = _nx(instrument, "beam", "NXbeam")
        _field(beam, "incident_wavelength", WAVELENGTH, "angstrom")
        _field(beam, "total_flux", 2.1e12, "Hz")
        _field(beam, "incident_beam_size", np.array([10.0, 10.0]), "um")
        attenuator = _nx(instrument, "attenuator", "NXattenuator")
        _field(attenuator, "attenuator_transmission", 0.25)
        detector = _nx(instrument, "detector", "NXdetector")
        detector.create_dataset("description", data="Dectris Eiger2 X 9M")
        detector.create_dataset("type", data="Pixel")
        detector.create_dataset("sensor_material", data="CdTe")
        _field(detector, "sensor_thickness", 0.00075, "m")
        _field(detector, "distance", 0.150, "m")
        _field(detector, "beam_center_x", 1564.2, "pixel")
        _field(detector, "beam_center_y", 1652.8, "pixel")
        _field(detector, "count_time", 0.0099, "s")
        _field(detector, "frame_time", 0.01, "s")
        module = _nx(detector, "module", "NXdetector_module")
        _field(module, "fast_pixel_direction", 75e-6, "m", transformation_type="translation",
               vector=np.array([-1.0, 0.0, 0.0]), depends_on=".")
        _field(module, "slow_pixel_direction", 75e-6, "m", transformation_type="translation",
               vector=np.array([0.0, -1.0, 0.0]), depends_on=".")
        sample = _nx(entry, "sample", "NXsample")
        sample.create_dataset("name", data=SAMPLE)
        _field(sample, "temperature", 100.0, "K")
        sample.create_dataset("depends_on", data="/entry/sample/transformations/omega")
        transformations = _nx(sample, "transformations", "NXtransformations")
        omega = OSCILLATION * np.arange(FRAMES)
        _field(transformations, "omega", omega, "deg", transformation_type="rotation",
               vector=np.array([-1.0, 0.0, 0.0]), depends_on=".")
        _field(transformations, "omega_increment_set", OSCILLATION, "deg")
        _field(transformations, "omega_end", omega + OSCILLATION, "deg")
        data = _nx(entry, "data", "NXdata")
        layout = h5py.VirtualLayout(shape=(FRAMES, 3262, 3108), dtype="uint32")
        layout[:] = h5py.VirtualSource(f"{path.stem.removesuffix('_master')}_data_000001.h5", "data",
                                       shape=(FRAMES, 3262, 3108))
        data.create_virtual_dataset("data", layout)
    return path


def write_example(directory: str | os.PathLike[str]) -> ExampleFiles:
    """Write the example's NXmx master and processed mmCIF into ``directory`` (created if needed)."""
    root = Path(directory)
    raw_dir = root / "RAW_DATA" / SAMPLE / "run_01"
    processed_dir = root / "PROCESSED_DATA" / SAMPLE / "run_01" / "xds"
    raw_dir.mkdir(parents=True, exist_ok=True)
    processed_dir.mkdir(parents=True, exist_ok=True)
    master = write_master(raw_dir / "run_01_master.h5")
    record = ExportRecord(
        raw=[{"wavelength": WAVELENGTH, "beamline": BEAMLINE.upper(), "facility": "ESRF",
              "detector_model": "Dectris Eiger2 X 9M", "sample_temperature": 100.0}],
        processed=dict(PROCESSED), software=[dict(s) for s in SOFTWARE], name="run_01_xds")
    mmcif = processed_dir / "run_01_xds.cif"
    mmcif.write_text(export_mmcif(record))
    return ExampleFiles(directory=root, master=master, mmcif=mmcif)


def load_example(mx: MxCatalogue, files: ExampleFiles) -> ExampleReport:
    """Register the example through the public API (idempotent: a re-run reports ``unchanged``)."""
    report = ExampleReport()
    mx.ensure_investigation(PROPOSAL, beamline=BEAMLINE, title="mxicat quickstart example")
    for registration in mx.register_nexus(files.master, PROPOSAL, beamline=BEAMLINE, name="run_01"):
        report.raw.append(registration.to_json())
    raw_names = [r["name"] for r in report.raw]
    processed = mx.register_processed(
        "run_01_xds", inputs=[r["id"] for r in report.raw], mmcif=files.mmcif, program="XSCALE",
        version=SOFTWARE[1]["version"], location=files.mmcif.parent, datafiles=[files.mmcif])
    report.processed = processed.to_json()
    report.group = mx.group(f"{SAMPLE}-merge", [*raw_names, processed.name], kind="merge")
    return report

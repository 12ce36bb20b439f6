"""Small synthetic NXmx files for the harvester tests, built with h5py (in memory or in a tmp dir).

Each builder writes one layout rule or quirk of standards.md §1.2–1.4 so a fresh clone without the shared
test data still exercises every code path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

Strings = Callable[[str], Any]


def as_bytes(text: str) -> Any:
    return np.bytes_(text)


def as_str(text: str) -> Any:
    return text


def as_array(text: str) -> Any:
    """The i16 quirk: strings (even @NX_class) as 1-element byte arrays."""
    return np.array([text.encode()])


def group(parent: h5py.Group, name: str, nx_class: str, enc: Strings = as_bytes) -> h5py.Group:
    g = parent.create_group(name)
    g.attrs["NX_class"] = enc(nx_class)
    return g


def text(parent: h5py.Group, name: str, value: str, enc: Strings = as_bytes, **attrs: Any) -> h5py.Dataset:
    d = parent.create_dataset(name, data=enc(value))
    for key, val in attrs.items():
        d.attrs[key] = enc(val) if isinstance(val, str) else val
    return d


def number(parent: h5py.Group, name: str, value: Any, units: str | None = None, unit_attr: str = "units",
           enc: Strings = as_bytes, **attrs: Any) -> h5py.Dataset:
    d = parent.create_dataset(name, data=value)
    if units is not None:
        d.attrs[unit_attr] = enc(units)
    for key, val in attrs.items():
        d.attrs[key] = enc(val) if isinstance(val, str) else val
    return d


def axis(parent: h5py.Group, name: str, values: Any, kind: str, depends_on: str, vector: tuple[float, ...],
         units: str, enc: Strings = as_bytes) -> h5py.Dataset:
    return number(parent, name, np.asarray(values, dtype=float), units, enc=enc, transformation_type=kind,
                  depends_on=depends_on, vector=np.asarray(vector, dtype=float))


def nxmx_entry(f: h5py.File, name: str = "entry", *, frames: int = 10, start: float = 10.0,
               width: float = 0.1, wavelength: float = 0.9763, distance_m: float = 0.2,
               enc: Strings = as_bytes, source_in_instrument: bool = False, unit_attr: str = "units",
               data: str = "vds-missing", data_dir: Path | None = None, sample_name: str = "lysozyme",
               relative_depends_on: bool = False) -> h5py.Group:
    """A modern NXmx entry (nexgen-like): omega rotation, detector with a module, beam, attenuator."""
    entry = group(f, name, "NXentry", enc)
    text(entry, "definition", "NXmx", enc)
    text(entry, "start_time", "2024-03-01T10:00:00Z", enc)
    text(entry, "end_time_estimated", "2024-03-01T10:00:05Z", enc)
    instrument = group(entry, "instrument", "NXinstrument", enc)
    text(instrument, "name", "DIAMOND BEAMLINE I03", enc, short_name="DLS I03")
    source = group(instrument if source_in_instrument else entry, "source", "NXsource", enc)
    text(source, "name", "Diamond Light Source", enc, short_name="DLS")
    text(source, "type", "Synchrotron X-ray Source", enc)
    beam = group(instrument, "beam", "NXbeam", enc)
    number(beam, "incident_wavelength", wavelength, "angstrom", unit_attr, enc)
    number(beam, "total_flux", 2.7e11, "Hz", "u", enc)  # nexgen writes @u
    number(beam, "incident_beam_size", np.array([2e-5, 1e-5]), "m", unit_attr, enc)
    attenuator = group(instrument, "attenuator", "NXattenuator", enc)
    number(attenuator, "attenuator_transmission", 0.25)
    detector = group(instrument, "detector", "NXdetector", enc)
    text(detector, "description", "Eiger2 X 9M", enc)
    text(detector, "sensor_material", "Si", enc)
    number(detector, "sensor_thickness", 0.00045, "m", unit_attr, enc)
    number(detector, "distance", distance_m, "m", unit_attr, enc)
    number(detector, "beam_center_x", 1500.5, "pixels", unit_attr, enc)
    number(detector, "beam_center_y", 1600.25, "pixels", unit_attr, enc)
    number(detector, "count_time", 0.004, "s", unit_attr, enc)
    number(detector, "saturation_value", 46051)
    module = group(detector, "module", "NXdetector_module", enc)
    number(module, "data_size", np.array([3262, 3108]))
    number(module, "fast_pixel_direction", 0.075, "mm", unit_attr, enc, transformation_type="translation")
    number(module, "slow_pixel_direction", 0.075, "mm", unit_attr, enc, transformation_type="translation")
    sample = group(entry, "sample", "NXsample", enc)
    text(sample, "name", sample_name, enc)
    number(sample, "temperature", 100.0, "K", unit_attr, enc)
    prefix = f"{entry.name}/sample/transformations/"
    prefix = prefix.lstrip("/") if relative_depends_on else prefix
    text(sample, "depends_on", prefix + "omega", enc)
    transformations = group(sample, "transformations", "NXtransformations", enc)
    omega = start + width * np.arange(frames)
    axis(transformations, "omega", omega, "rotation", prefix + "phi", (-1, 0, 0), "deg", enc)
    number(transformations, "omega_end", omega + width, "deg", enc=enc)
    number(transformations, "omega_increment_set", np.full(frames, width), "deg", enc=enc)
    axis(transformations, "phi", [0.0], "rotation", ".", (-1, 0, 0), "deg", enc)
    data_group = group(entry, "data", "NXdata", enc)
    shape = (frames, 8, 6)
    if data == "vds-missing":
        layout = h5py.VirtualLayout(shape=shape, dtype="uint16")
        half = frames // 2
        layout[:half] = h5py.VirtualSource(f"{name}_data_000001.h5", "data", shape=(half, 8, 6))
        layout[half:] = h5py.VirtualSource(f"{name}_data_000002.h5", "data", shape=(frames - half, 8, 6))
        data_group.create_virtual_dataset("data", layout)
    elif data == "vds-present":
        assert data_dir is not None
        layout = h5py.VirtualLayout(shape=shape, dtype="uint16")
        half = frames // 2
        for i, (lo, hi) in enumerate(((0, half), (half, frames)), start=1):
            filename = f"{name}_data_{i:06d}.h5"
            with h5py.File(data_dir / filename, "w") as out:
                out.create_dataset("data", data=np.full((hi - lo, 8, 6), i, dtype="uint16"))
            layout[lo:hi] = h5py.VirtualSource(filename, "data", shape=(hi - lo, 8, 6))
        data_group.create_virtual_dataset("data", layout)
    elif data == "external-missing":
        data_group["data_000001"] = h5py.ExternalLink(f"{name}_000001.h5", "/data")
    elif data == "none":
        pass
    return entry


def memory_file(name: str = "mem.nxs") -> h5py.File:
    """An HDF5 file that lives only in memory (h5py core driver, no backing store)."""
    return h5py.File(name, "w", driver="core", backing_store=False)


def stills_entry(f: h5py.File, frames: int = 6, per_shot: bool = True) -> h5py.Group:
    """XFEL/jet SSX: ``sample/depends_on = "."``, no goniometer, per-shot wavelength, raw data in the file."""
    entry = group(f, "entry", "NXentry")
    text(entry, "definition", "NXmx")
    source = group(entry, "source", "NXsource")
    text(source, "name", "SwissFEL")
    instrument = group(entry, "instrument", "NXinstrument")
    text(instrument, "name", "SwissFEL ARAMIS BEAMLINE ESB")
    beam = group(instrument, "beam", "NXbeam")
    wavelengths = 1.3 + 0.001 * np.arange(frames) if per_shot else 1.3
    number(beam, "incident_wavelength", wavelengths, "angstrom")
    detector = group(instrument, "detector", "NXdetector")
    text(detector, "description", "JF16M")
    number(detector, "distance", 0.12, "m")
    sample = group(entry, "sample", "NXsample")
    text(sample, "depends_on", ".")
    data = group(entry, "data", "NXdata")
    data.create_dataset("data", shape=(frames, 4, 4), dtype="uint16")
    return entry


def dectris_entry(f: h5py.File, nimages: int = 5, ntrigger: int = 2, increment: float = 0.2) -> h5py.Group:
    """Dectris filewriter 1.6 ("nearly NeXus"): no definition, detectorSpecific, goniometer *_start."""
    entry = group(f, "entry", "NXentry")
    instrument = group(entry, "instrument", "NXinstrument")
    beam = group(instrument, "beam", "NXbeam")
    number(beam, "incident_wavelength", np.float32(0.9801122), "angstrom")
    detector = group(instrument, "detector", "NXdetector")
    text(detector, "description", "Dectris Eiger 9M")
    text(detector, "detector_number", "E-18-0102")
    number(detector, "x_pixel_size", np.float32(7.5e-5), "m")
    number(detector, "y_pixel_size", np.float32(7.5e-5), "m")
    number(detector, "detector_distance", np.float32(0.134255), "m")
    number(detector, "count_time", np.float32(0.00499), "s")
    number(detector, "frame_time", np.float32(0.005), "s")
    specific = group(detector, "detectorSpecific", "NXcollection")
    number(specific, "nimages", np.uint32(nimages))
    number(specific, "ntrigger", np.uint32(ntrigger))
    number(specific, "photon_energy", np.float32(12650.0), "eV")
    text(specific, "data_collection_date", "2016-12-16T07:06:17.852051")
    number(specific, "countrate_correction_count_cutoff", np.uint32(12440))
    sample = group(entry, "sample", "NXsample")
    goniometer = group(sample, "goniometer", "NXtransformations")
    for name in ("chi", "kappa", "omega", "phi"):
        step = increment if name == "omega" else 0.0
        number(goniometer, f"{name}_start", np.float32(0.0), "degree")
        number(goniometer, f"{name}_increment", np.float32(step), "degree")
        number(goniometer, f"{name}_range_total", np.float32(400.0 if name == "omega" else 0.0), "degree")
    data = group(entry, "data", "NXdata")
    data["data_000001"] = h5py.ExternalLink("dectris_data_000001.h5", "entry/data/data")
    return entry

"""NXmx master file → :class:`HarvestResult`: canonical metadata per sweep, with provenance and datafiles.

Reads only metadata (never pixel data), tolerates the layouts of standards.md §1.2 and never raises for a
missing ExternalLink or VDS source (they become warnings). One sweep per NXentry; a DIALS export (NXentry
holding NXsubentry groups with ``definition = NXmx``) gives one sweep per experiment subentry.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache, partial
from typing import TypeAlias

import h5py
import numpy as np
from h5py import h5f, h5p

from mxicat.harvest import units
from mxicat.harvest.dials import harvest_dials_expt, is_experiment_list
from mxicat.harvest.files import sweep_datafiles
from mxicat.harvest.geometry import derived_distance
from mxicat.harvest.h5values import forget_string_kinds
from mxicat.harvest.nexus import Field, NXbeam, NXdetector, NXentry, NXinstrument, NXsample
from mxicat.harvest.nxwalk import Walker
from mxicat.harvest.result import HarvestError, HarvestResult, MetadataValue, Sweep
from mxicat.harvest.scan import sample_scan

logger = logging.getLogger(__name__)

#: a field, or a getter that reads it only when needed
Found: TypeAlias = Field | None | Callable[[], Field | None]

#: fields written without ``@units``: the NXDL default unit first, then the units a writer plausibly meant,
#: and the plausible range (low, high, unit) — e.g. i16 writes sensor_thickness 0.32, meaning mm
UNITLESS_GUESSES: dict[str, tuple[tuple[str, ...], tuple[float, float, str]]] = {
    "exposure_time": (("s",), (0.0, 1e5, "s")),
    "frame_time": (("s",), (0.0, 1e5, "s")),
    "sensor_thickness": (("m", "mm", "um"), (1.0, 1e4, "um")),
    "detector_distance": (("m", "mm"), (1.0, 1e5, "mm")),
    "pixel_size_x": (("m", "mm", "um"), (1.0, 5e3, "um")),
    "pixel_size_y": (("m", "mm", "um"), (1.0, 5e3, "um")),
    "wavelength": (("angstrom", "nm"), (0.01, 50.0, "angstrom")),
    "transmission": (("",), (0.0, 1.0, "")),
    "flux": (("Hz",), (0.0, 1e20, "Hz")),
    "sample_temperature": (("K",), (0.0, 1e4, "K")),
    "oscillation_start": (("deg",), (-1e5, 1e5, "deg")),
    "oscillation_width": (("deg",), (-1e5, 1e5, "deg")),
    "beam_size_x": (("m", "mm", "um"), (0.01, 1e5, "um")),
    "beam_size_y": (("m", "mm", "um"), (0.01, 1e5, "um")),
}

#: terms whose values are counts
INT_TERMS: tuple[str, ...] = ("saturation_value", "number_of_images")

#: terms emitted only when the ontology defines them (not in the harvester's required list)
OPTIONAL_TERMS: tuple[str, ...] = ("frame_time", "saturation_value", "detector_serial")


def _clean(value: float) -> float:
    """Drop binary noise of unit conversion and differences (10 significant digits)."""
    return float(f"{value:.10g}")


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        return None


class SweepBuilder:
    """Collects the metadata of one entry into a :class:`Sweep`."""

    def __init__(self, walker: Walker, entry: NXentry, parent: NXentry | None = None) -> None:
        self.walker = walker
        self.entry = entry
        self.parent = parent
        self.metadata: dict[str, MetadataValue] = {}
        self.sources: dict[str, str] = {}
        self.warnings: list[str] = []
        self.instrument: NXinstrument | None = next(iter(entry.instruments), None)
        self.sample: NXsample | None = next(iter(entry.samples), None)
        self.detector = self._main_detector()

    # -- recording -------------------------------------------------------------------------------------------
    def put(self, term: str, value: MetadataValue | None, path: str) -> None:
        if value is None or term in self.metadata:
            return
        if isinstance(value, float) and not np.isfinite(value):
            self.warnings.append(f"{path}: {term} is not a finite number; skipped")
            return
        if term in OPTIONAL_TERMS and not _known(term):
            return
        self.metadata[term] = value
        self.sources[term] = path

    def put_text(self, term: str, found: Found) -> None:
        if term in self.metadata:
            return
        found = found() if callable(found) else found
        if found is not None and found.text is not None:
            self.put(term, found.text, found.path)

    def put_number(self, term: str, found: Found, *, default_unit: str | None = None) -> None:
        """Convert ``found`` (scalar, 1-element or per-frame array) to ``term``'s canonical unit.

        ``found`` may be a getter, called only when ``term`` has no value yet (fallback fields are then
        never read when the preferred one was there).
        """
        if term in self.metadata:
            return
        found = found() if callable(found) else found
        if found is None:
            return
        values = found.floats
        if values is None:
            return
        if values.size == 1:  # the common case, without numpy reductions
            value = float(values[0])
            if not math.isfinite(value):
                return
        else:
            if not np.all(np.isfinite(values)):
                return
            same = bool(np.all(values == values[0]))
            value = float(values[0]) if same else float(np.mean(values))
            if not same:
                self.warnings.append(f"{found.path}: {values.size} different values; {term} is their mean")
        converted = self._convert(term, value, found.units or default_unit, found.path)
        if converted is not None:
            self.put(term, int(round(converted)) if term in INT_TERMS else _clean(converted), found.path)

    def _convert(self, term: str, value: float, unit: str | None, path: str) -> float | None:
        if unit is not None:
            if units.normalise_unit(unit) == "pixel" and units.canonical_unit(term) != "pixel":
                self.warnings.append(f"{path}: value in pixels cannot give {term}; skipped")
                return None
            try:
                return units.convert(value, unit, term)
            except units.UnitError as err:
                self.warnings.append(f"{path}: unit {unit!r} not convertible for {term} ({err})")
                return None
        guesses, (low, high, range_unit) = UNITLESS_GUESSES.get(term, (("",), (-np.inf, np.inf, "")))
        for guess in guesses:
            scale, offset = units.linear(guess, range_unit)
            if low <= abs(value * scale + offset) <= high:
                self.warnings.append(f"{path}: no units; assumed {guess or 'dimensionless'} for {term}")
                return units.convert(value, guess, term)
        self.warnings.append(f"{path}: no units and value {value:g} implausible for {term}; skipped")
        return None

    # -- parts -----------------------------------------------------------------------------------------------
    def _main_detector(self) -> NXdetector | None:
        detectors = self.instrument.detectors if self.instrument else []
        if not detectors:
            return None

        def score(d: NXdetector) -> int:
            names = self.walker.links(d.group)
            return 10 * bool(d.modules) + sum(
                n in names
                for n in (
                    "sensor_material",
                    "beam_center_x",
                    "description",
                    "count_time",
                    "x_pixel_size",
                    "detectorSpecific",
                    "distance",
                    "detector_distance",
                )
            )

        return max(detectors, key=score)

    def _beams(self) -> Iterator[NXbeam]:
        """Instrument beams, then sample beams (DIALS export, i16, GDA copies) — the sample's children are
        only classified when the instrument's beams did not give a wavelength."""
        if self.instrument is not None:
            yield from self.instrument.beams
        if self.sample is not None and "wavelength" not in self.metadata:
            yield from self.sample.beams

    def harvest(self) -> Sweep:
        self._facility_and_beamline()
        self._beam()
        self._detector()
        self._sample()
        frames = self._frames()
        scan = sample_scan(self.sample)
        self.warnings.extend(scan.warnings)
        if scan.scan_type == "rotation" and scan.start is not None:
            self.put_number("oscillation_start", scan.start, default_unit="deg")
            if scan.width is not None:
                self.put_number(
                    "oscillation_width",
                    Field(scan.width_path or scan.start.path, scan.width, scan.start.units),
                    default_unit="deg",
                )
            self.put("rotation_axis", scan.axis, scan.start.path)
        if frames is None and scan.points is not None and (scan.points > 1 or scan.scan_type == "rotation"):
            frames = (scan.points, scan.points_path or "")
        if frames is not None:
            self.put("number_of_images", frames[0], frames[1])
        self.put(
            "scan_type",
            scan.scan_type,
            scan.width_path or scan.points_path or (self.sample.path if self.sample else self.entry.path),
        )
        self._times()
        datafiles, link_warnings = sweep_datafiles(self.walker, self.entry)
        return Sweep(
            scan.scan_type, self.metadata, self.sources, datafiles, self.warnings + link_warnings, entry=self.entry.path
        )

    def _facility_and_beamline(self) -> None:
        sources = self.entry.sources or (self.instrument.sources if self.instrument else [])
        if not sources and self.parent is not None:
            sources = self.parent.sources
        if sources:
            self.put_text("facility", sources[0].name or sources[0].short_name)
        if self.instrument is not None:
            instrument = self.instrument
            self.put_text("beamline", lambda: instrument.name or instrument.short_name)

    def _beam(self) -> None:
        for beam in self._beams():
            self.put_number("wavelength", partial(getattr, beam, "incident_wavelength"))
            self.put_number("flux", partial(getattr, beam, "total_flux"))
            if "beam_size_x" in self.metadata:
                continue
            size = beam.incident_beam_size
            if size is not None and size.floats is not None and size.floats.size >= 2:
                self.put_number("beam_size_x", Field(size.path, size.floats[0], size.units))
                self.put_number("beam_size_y", Field(size.path, size.floats[1], size.units))
        if "wavelength" not in self.metadata:  # energy only: i16 incident_energy, Dectris photon_energy
            energies = [b.incident_energy for b in self._beams()]
            if self.detector is not None and self.detector.detector_specific is not None:
                energies.append(self.detector.detector_specific.field("photon_energy"))
            for energy in energies:
                if energy is not None and energy.first:
                    kev = self._convert("photon_energy", energy.first, energy.units or "keV", energy.path)
                    if kev:
                        self.put(
                            "wavelength",
                            _clean(units.convert(units.hc_kev_angstrom() / kev, "angstrom", "wavelength")),
                            energy.path,
                        )
                        break
        wavelength_a = self._in_unit("wavelength", "angstrom")
        if wavelength_a:
            energy_kev = units.hc_kev_angstrom() / wavelength_a
            self.put(
                "photon_energy", _clean(units.convert(energy_kev, "keV", "photon_energy")), self.sources["wavelength"]
            )
        if self.instrument is not None:
            for attenuator in self.instrument.attenuators:
                self.put_number(
                    "transmission", partial(getattr, attenuator, "attenuator_transmission"), default_unit=""
                )

    def _in_unit(self, term: str, unit: str) -> float | None:
        """A recorded canonical value of ``term`` expressed in ``unit`` (for derived values)."""
        value = self.metadata.get(term)
        if not isinstance(value, int | float):
            return None
        canonical = units.canonical_unit(term)
        scale, offset = units.linear(units.normalise_unit(canonical) or "", unit)
        return value * scale + offset

    def _detector(self) -> None:
        detector = self.detector
        if detector is None:
            return
        self.put_text("detector_model", partial(getattr, detector, "description"))
        if _known("detector_serial"):
            self.put_text("detector_serial", partial(getattr, detector, "serial_number"))
        self.put_text("sensor_material", partial(getattr, detector, "sensor_material"))
        self.put_number("sensor_thickness", partial(getattr, detector, "sensor_thickness"))
        self.put_number("detector_distance", partial(getattr, detector, "distance"))
        module = next(iter(detector.modules), None)
        if module is not None:
            self.put_number("pixel_size_x", partial(getattr, module, "fast_pixel_direction"))
            self.put_number("pixel_size_y", partial(getattr, module, "slow_pixel_direction"))
            if "detector_distance" not in self.metadata:
                derived = derived_distance(module)
                if derived is not None:
                    self.put("detector_distance", _clean(derived[0]), derived[1])
                    self.warnings.append(f"detector_distance derived from the module geometry ({derived[1]})")
        self.put_number("pixel_size_x", partial(getattr, detector, "x_pixel_size"))
        self.put_number("pixel_size_y", partial(getattr, detector, "y_pixel_size"))
        self._beam_centre("beam_center_x", detector.beam_center_x, "pixel_size_x")
        self._beam_centre("beam_center_y", detector.beam_center_y, "pixel_size_y")
        self.put_number("exposure_time", partial(getattr, detector, "count_time"))
        self.put_number("exposure_time", partial(getattr, detector, "frame_time"))
        if _known("frame_time"):
            self.put_number("frame_time", partial(getattr, detector, "frame_time"))
        if _known("saturation_value"):
            self.put_number("saturation_value", partial(getattr, detector, "saturation_value"), default_unit="")
            specific = detector.detector_specific
            if specific is not None:
                self.put_number(
                    "saturation_value", partial(specific.field, "countrate_correction_count_cutoff"), default_unit=""
                )

    def _beam_centre(self, term: str, found: Field | None, pixel_term: str) -> None:
        """Beam centre in pixels; NXmx allows a length, converted with the pixel size."""
        if found is None or found.first is None:
            return
        unit = units.normalise_unit(found.units)
        if unit is None or unit == "pixel":
            self.put(term, _clean(found.first), found.path)
            return
        pixel_um = self._in_unit(pixel_term, "micrometre")
        try:
            length_um = units.linear(unit, "micrometre")[0] * found.first
        except units.UnitError:
            self.warnings.append(f"{found.path}: unit {found.units!r} not a length or pixel")
            return
        if pixel_um:
            self.put(term, _clean(length_um / pixel_um), found.path)

    def _sample(self) -> None:
        if self.sample is None:
            return
        self.put_text("sample_name", self.sample.name)
        self.put_number("sample_temperature", self.sample.temperature)

    def _frames(self) -> tuple[int, str] | None:
        """Number of frames from dataset shapes (VDS shapes are right even without their sources)."""
        for data in self.entry.data_groups:
            dataset = data.data
            if dataset is not None and dataset.ndim >= 3:
                return int(dataset.shape[0]), str(dataset.name)
        specific = self.detector.detector_specific if self.detector else None
        if specific is not None:
            nimages = specific.field("nimages")
            first = nimages.first if nimages is not None else None
            if nimages is not None and first is not None and np.isfinite(first):
                ntrigger = specific.field("ntrigger")
                triggers = ntrigger.first if ntrigger is not None else None
                count = int(first) * int(triggers if triggers and np.isfinite(triggers) else 1)
                return count, nimages.path
        for data in self.entry.data_groups:  # old Dectris: data_000001 … links without a VDS
            shapes = [
                d.shape[0]
                for name in self.walker.links(data.group)  # the cached link table, not another HDF5 walk
                if name.startswith("data_")
                for d in [data.dataset(name)]
                if d is not None and d.ndim >= 3
            ]
            if shapes:
                return int(sum(shapes)), data.path
        return None

    def _times(self) -> None:
        for term, candidates in (("start_time", ("start_time",)), ("end_time", ("end_time", "end_time_estimated"))):
            for name in candidates:
                found = getattr(self.entry, name)
                parsed = _parse_time(found.text) if found is not None and found.text else None
                if parsed is not None:
                    self.put(term, parsed, found.path)
                    break
        specific = self.detector.detector_specific if self.detector else None
        if "start_time" not in self.metadata and specific is not None:
            found = specific.field("data_collection_date")
            parsed = _parse_time(found.text) if found is not None and found.text else None
            if parsed is not None and found is not None:
                self.put("start_time", parsed, found.path)
        stamps = self.detector.timestamp if self.detector else None
        values = stamps.floats if stamps is not None else None
        if values is not None and stamps is not None and np.all(values > 1e8):  # epoch seconds per frame
            self.put("start_time", datetime.fromtimestamp(float(values.min()), UTC), stamps.path)
            self.put("end_time", datetime.fromtimestamp(float(values.max()), UTC), stamps.path)
        times = {t: self.metadata.get(t) for t in ("start_time", "end_time")}
        naive = [t for t, v in times.items() if isinstance(v, datetime) and v.tzinfo is None]
        if naive:
            self.warnings.append(
                f"{', '.join(self.sources[t] for t in naive)}: time without zone (kept naive, local to the facility)"
            )


@cache
def _read_fapl() -> h5py.h5p.PropFAID:
    """The file access property list ``h5py.File(path, "r")`` builds on every open (HDF5's defaults with
    h5py's library-version bounds), built once."""
    fapl = h5p.create(h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5f.LIBVER_EARLIEST, h5f.LIBVER_LATEST)
    return fapl


@cache
def _known(term: str) -> bool:
    units.canonical_unit(term)
    return term not in units.MISSING_TERMS and (units._ontology() is not None or term in units.FALLBACK_UNITS)


def _has_mx_content(entry: NXentry) -> bool:
    if entry.definition == "NXmx":
        return True
    return any(i.detectors or i.beams for i in entry.instruments)


def _layout(entry: NXentry, used_subentries: bool) -> str:
    if used_subentries:
        return "nxmx-subentries"
    if entry.definition == "NXmx":
        return "nxmx"
    instrument = next(iter(entry.instruments), None)
    detector = next(iter(instrument.detectors), None) if instrument else None
    if detector is not None and detector.detector_specific is not None:
        return "dectris-filewriter"
    return "nexus"


def harvest_file(file: h5py.File, path: str) -> HarvestResult:
    """Harvest an open HDF5 file (``path`` names it in messages and resolves relative links)."""
    forget_string_kinds()
    walker = Walker(file, path)
    entries = [NXentry(walker, g) for g in walker.groups_of_class(file, "NXentry")]
    if not entries:  # files without @NX_class on the entry: accept groups called entry, entry1, …
        entries = [
            NXentry(walker, file[n])
            for n in file
            if n.startswith("entry") and isinstance(walker.child(file, n), h5py.Group)
        ]
    units_of_work: list[tuple[NXentry, NXentry | None]] = []
    layouts: list[str] = []
    for entry in entries:
        subs = [s for s in entry.subentries if s.definition == "NXmx" or (s.definition is None and _has_mx_content(s))]
        if subs:
            units_of_work.extend((s, entry) for s in subs)
            layouts.append(_layout(entry, True))
        elif _has_mx_content(entry):
            units_of_work.append((entry, None))
            layouts.append(_layout(entry, False))
    if not units_of_work:
        raise HarvestError(path, "no MX content (no NXentry with definition NXmx, a detector or a beam)")
    sweeps = [SweepBuilder(walker, e, parent).harvest() for e, parent in units_of_work]
    warnings: list[str] = []
    if len(set(layouts)) > 1:
        warnings.append(f"entries have different layouts: {', '.join(sorted(set(layouts)))}")
    if any(e.definition is None for e, _ in units_of_work):
        warnings.append("no definition = NXmx (not recognisable as NXmx by its definition)")
    return HarvestResult(os.path.abspath(path), layouts[0], sweeps, warnings)


def is_master(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is an HDF5 file with MX metadata (an NXmx master, not a frames-only data file)."""
    try:
        with h5py.File(os.fspath(path), "r") as handle:
            walker = Walker(handle, os.fspath(path))
            for group in walker.groups_of_class(handle, "NXentry"):
                entry = NXentry(walker, group)
                if _has_mx_content(entry) or any(_has_mx_content(s) for s in entry.subentries):
                    return True
    except (OSError, RuntimeError, ValueError):
        return False
    return False


def harvest(path: str | os.PathLike[str]) -> HarvestResult:
    """Harvest any supported file: an NXmx/HDF5 master, or a DIALS experiment list (``.expt``).

    Raises:
        HarvestError: the file cannot be harvested (see :func:`harvest_nexus`, :func:`harvest_dials_expt`).
    """
    if is_experiment_list(path):
        return harvest_dials_expt(path)
    return harvest_nexus(path)


def harvest_nexus(path: str | os.PathLike[str]) -> HarvestResult:
    """Harvest the NXmx master file at ``path`` into canonical, provenance-carrying metadata.

    Raises:
        HarvestError: the file is missing, not HDF5, truncated/corrupt, or has no MX content.
    """
    text = os.fspath(path)
    if not os.path.isfile(text):
        raise HarvestError(text, "no such file")
    try:
        handle = h5py.File(h5f.open(os.fsencode(text), h5f.ACC_RDONLY, fapl=_read_fapl()))
    except OSError as err:  # only now tell "not HDF5" from "corrupt" (checking first costs a second open)
        try:
            is_hdf5 = h5py.is_hdf5(text)
        except OSError as why:
            raise HarvestError(text, f"cannot read ({why})") from why
        if not is_hdf5:
            raise HarvestError(text, "not an HDF5 file") from err
        raise HarvestError(text, f"truncated or corrupt HDF5 file ({err})") from err
    try:
        with handle:
            return harvest_file(handle, text)
    except (OSError, RuntimeError) as err:
        raise HarvestError(text, f"truncated or corrupt HDF5 file ({err})") from err
    except (KeyError, ValueError, TypeError) as err:  # content no reader path expected: name the file
        logger.debug("harvest of %s failed", text, exc_info=True)
        raise HarvestError(text, f"unexpected content ({type(err).__name__}: {err})") from err


__all__ = ["HarvestError", "HarvestResult", "Sweep", "harvest", "harvest_file", "harvest_nexus", "is_master"]

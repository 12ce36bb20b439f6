"""Typed, lazy, read-only views of the NXmx classes, named after the NXDL classes they mirror.

Each view wraps one h5py group found by ``@NX_class``; accessors are ``@cached_property`` so a field is read
at most once and only when asked for. Optional fields return ``None`` (and say so in their annotation): real
files omit most of what NXDL calls recommended. Docstrings quote NXmx / the NeXus base classes (v2026.01).
Values are returned as :class:`Field` (value, unit string, HDF5 path) so provenance travels with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import h5py
import numpy as np

from mxicat.harvest.h5values import (
    as_floats,
    attr,
    attr_str,
    attribute_names,
    decode,
    name_of,
    read_id,
    read_value,
    units_of,
)
from mxicat.harvest.nxwalk import Walker

_V = TypeVar("_V", bound="NXobject")
_T = TypeVar("_T")


class cached_property(Generic[_T]):  # noqa: N801 - a drop-in for functools.cached_property
    """``functools.cached_property`` without the lock Python 3.11 takes on every first access (a harvest
    computes a few hundred of them; the views are never shared between threads)."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> cached_property[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> _T | cached_property[_T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.attrname] = value
        return value


@dataclass(frozen=True, slots=True)
class Field:
    """One dataset value with its unit string (``None`` when the file gives none) and HDF5 path."""

    path: str
    value: Any
    units: str | None

    @property
    def floats(self) -> np.ndarray | None:
        """The value as a 1-D float array (scalars and 1-element arrays have length 1)."""
        return as_floats(self.value)

    @property
    def first(self) -> float | None:
        """The first (or only) number; ``None`` when the value is not numeric."""
        values = self.floats
        return float(values[0]) if values is not None else None

    @property
    def text(self) -> str | None:
        """The value as one decoded string (bytes, fixed-length and 1-element arrays included)."""
        return decode(self.value)


class NXobject:
    """Base of the views: a group, the walker that opened it, and quirk-tolerant field readers."""

    nx_class = "NXobject"

    def __init__(self, walker: Walker, group: h5py.Group) -> None:
        self.walker = walker
        self.group = group

    @cached_property
    def path(self) -> str:
        """HDF5 path of the group."""
        return str(self.group.name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"

    def dataset(self, name: str) -> h5py.Dataset | None:
        """Child dataset ``name``; ``None`` when absent or a dangling link (recorded by the walker)."""
        obj = self.walker.child(self.group, name, "dataset")
        return obj if isinstance(obj, h5py.Dataset) else None

    def field(self, name: str, *, text: bool = False) -> Field | None:
        """Child dataset ``name`` read as a :class:`Field` (never pixel-sized data); ``text=True`` for
        string fields, whose unit attributes are not read."""
        oid = self.walker.open_id(self.group, name, "dataset")
        if not isinstance(oid, h5py.h5d.DatasetID):
            return None
        value = read_id(oid)
        if value is None:
            return None
        return Field(f"{self.path.rstrip('/')}/{name}", value, None if text else units_of(oid))

    def attribute(self, name: str) -> Field | None:
        """Attribute ``name`` of the group as a :class:`Field` (path ``group@name``)."""
        value = attr(self.group, name)
        if value is None:
            return None
        return Field(f"{self.path}@{name}", value, None)

    def children(self, view: type[_V]) -> list[_V]:
        """Child groups of ``view.nx_class`` wrapped in ``view``."""
        return [view(self.walker, g) for g in self.walker.groups_of_class(self.group, view.nx_class)]


class NXtransformation:
    """One axis of an ``NXtransformations`` group (a dataset with ``@transformation_type``).

    NXtransformations: "the transformation_type attribute ... rotation or translation"; "@vector: three
    values that define the axis"; "@depends_on: points to the path to a field defining the axis on which
    this instance of NXtransformations depends or the string '.'"; base-class companions ``AXISNAME_end``
    ("the end position for each scan point") and ``AXISNAME_increment_set`` ("the intended average range
    through which the value changes between scan points").
    """

    def __init__(self, walker: Walker, dataset: h5py.Dataset | h5py.h5d.DatasetID, path: str | None = None) -> None:
        self.walker = walker
        self.id: h5py.h5d.DatasetID = dataset.id if isinstance(dataset, h5py.Dataset) else dataset
        if path is not None:
            self.path = path

    @property
    def dataset(self) -> h5py.Dataset:
        """The axis dataset (the views work on its low-level :attr:`id`)."""
        return h5py.Dataset(self.id)

    @cached_property
    def path(self) -> str:
        """HDF5 path of the axis dataset."""
        return name_of(self.id)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @cached_property
    def shape(self) -> tuple[int, ...] | None:
        """Shape of the axis dataset (``None`` for an empty dataspace or when unreadable)."""
        try:
            shape: tuple[int, ...] | None = self.id.get_space().shape
        except (KeyError, OSError, RuntimeError, ValueError):
            return None
        return shape

    @cached_property
    def values(self) -> np.ndarray | None:
        return as_floats(read_id(self.id, self.shape))

    @cached_property
    def attribute_names(self) -> list[bytes]:
        """Names of the axis attributes, listed once (an axis has several to read)."""
        return attribute_names(self.id)

    def attribute(self, name: str) -> Any:
        """Attribute ``name`` of the axis dataset (see :func:`~mxicat.harvest.h5values.attr`)."""
        return attr(self.id, name, names=self.attribute_names)

    @cached_property
    def units(self) -> str | None:
        return units_of(self.id, self.attribute_names)

    @cached_property
    def transformation_type(self) -> str | None:
        text = decode(self.attribute("transformation_type"))
        return text.lower() if text else None

    @cached_property
    def vector(self) -> tuple[float, ...] | None:
        values = as_floats(self.attribute("vector"))
        return tuple(float(v) for v in values) if values is not None else None

    @cached_property
    def depends_on(self) -> NXtransformation | None:
        target = self.walker.resolve_depends_on_id(decode(self.attribute("depends_on")), self.path, True)
        return NXtransformation(self.walker, target) if target is not None else None

    def _companion(self, suffix: str) -> Field | None:
        parent = self.walker.get(self.path.rsplit("/", 1)[0] or "/", "group")
        obj = self.walker.child(parent, self.name + suffix, "dataset") if isinstance(parent, h5py.Group) else None
        if not isinstance(obj, h5py.Dataset):
            return None
        value = read_value(obj)
        return Field(str(obj.name), value, units_of(obj)) if value is not None else None

    @cached_property
    def end(self) -> Field | None:
        return self._companion("_end")

    @cached_property
    def increment_set(self) -> Field | None:
        return self._companion("_increment_set")

    @property
    def varies(self) -> bool:
        """True when the axis has more than one distinct per-frame value (1-element axes are not read)."""
        shape = self.shape
        if not shape or math.prod(shape) < 2:
            return False
        values = self.values
        return values is not None and values.size > 1 and not np.all(values == values[0])


def depends_on_chain(
    start: NXtransformation | None, limit: int = 64, stop: Callable[[NXtransformation], bool] | None = None
) -> list[NXtransformation]:
    """The transformations from ``start`` to the one whose ``depends_on`` is ``"."`` (cycles cut); with
    ``stop``, the chain ends at (and includes) the first axis ``stop`` is true for, so the rest is not read."""
    chain: list[NXtransformation] = []
    seen: set[str] = set()
    node = start
    while node is not None and node.path not in seen and len(chain) < limit:
        chain.append(node)
        seen.add(node.path)
        if stop is not None and stop(node):
            break
        node = node.depends_on
    return chain


class NXtransformations(NXobject):
    """NXtransformations: "Collection of axis-based translations and rotations to describe a geometry"."""

    nx_class = "NXtransformations"

    def field_names(self) -> list[str]:
        return list(self.group)


class NXsource(NXobject):
    """NXsource: "The neutron or x-ray storage ring/facility"; NXmx requires ``name`` at entry level."""

    nx_class = "NXsource"

    @cached_property
    def name(self) -> Field | None:
        """NXmx: "Name of source. Consistency with the naming in _diffrn_source.pdbx_synchrotron_site ..."."""
        return self.field("name", text=True)

    @cached_property
    def short_name(self) -> Field | None:
        """``name@short_name``: "short name for source, perhaps the acronym"."""
        dataset = self.dataset("name")
        value = attr(dataset, "short_name") if dataset is not None else None
        return Field(f"{self.path}/name@short_name", value, None) if decode(value) else None

    @cached_property
    def type(self) -> Field | None:
        """NXsource/type: e.g. "Synchrotron X-ray Source", "Free-Electron Laser"."""
        return self.field("type", text=True)

    @cached_property
    def probe(self) -> Field | None:
        """NXsource/probe: "type of radiation probe (pick one from the enumerated list)"."""
        return self.field("probe", text=True)


class NXbeam(NXobject):
    """NXbeam: "Properties of the neutron or X-ray beam at a given location"."""

    nx_class = "NXbeam"

    @cached_property
    def incident_wavelength(self) -> Field | None:
        """NXmx: "In the case of a monochromatic beam this is the scalar wavelength" (per-shot arrays allowed)."""
        return self.field("incident_wavelength")

    @cached_property
    def incident_energy(self) -> Field | None:
        """NXbeam/incident_energy: "Energy carried by each particle of the beam on entering the beamline"."""
        return self.field("incident_energy")

    @cached_property
    def total_flux(self) -> Field | None:
        """NXmx: "Flux incident on beam plane in photons per second" (NX_FREQUENCY)."""
        return self.field("total_flux")

    @cached_property
    def flux(self) -> Field | None:
        """NXbeam/flux: "Flux density incident on beam plane area in photons per second per unit area"."""
        return self.field("flux")

    @cached_property
    def incident_beam_size(self) -> Field | None:
        """NXmx: "Two-element array of FWHM (if Gaussian or Airy function) or diameters ... of the beam"."""
        return self.field("incident_beam_size")


class NXattenuator(NXobject):
    """NXattenuator: "A device that reduces the intensity of a beam by attenuation"."""

    nx_class = "NXattenuator"

    @cached_property
    def attenuator_transmission(self) -> Field | None:
        """NXattenuator: "The nominal amount of the beam that gets through (transmitted intensity)/(incident
        intensity)" (NX_DIMENSIONLESS, a fraction)."""
        return self.field("attenuator_transmission")


class NXdetector_module(NXobject):  # noqa: N801 - NXDL class name
    """NXdetector_module: "Geometry and logical description of a detector module"."""

    nx_class = "NXdetector_module"

    @cached_property
    def data_size(self) -> Field | None:
        """NXmx: "Two or three values for the size of the module in pixels in each direction" (slow, fast)."""
        return self.field("data_size")

    @cached_property
    def fast_pixel_direction(self) -> Field | None:
        """NXmx: "Values along the direction of fastest varying pixel direction. The value of this field is
        the pixel size"."""
        return self.field("fast_pixel_direction")

    @cached_property
    def slow_pixel_direction(self) -> Field | None:
        """NXmx: "Values along the direction of slowest varying pixel direction" (the value is the pixel size)."""
        return self.field("slow_pixel_direction")


class NXdetector(NXobject):
    """NXdetector: "A detector, detector bank, or multidetector"."""

    nx_class = "NXdetector"

    def _first(self, *names: str, text: bool = False) -> Field | None:
        for name in names:
            found = self.field(name, text=text)
            if found is not None:
                return found
        return None

    @cached_property
    def modules(self) -> list[NXdetector_module]:
        return self.children(NXdetector_module)

    @cached_property
    def detector_specific(self) -> NXobject | None:
        """Dectris ``detectorSpecific`` (an NXcollection or a plain group): calibration, nimages, ntrigger."""
        obj = self.walker.child(self.group, "detectorSpecific", "group")
        return NXobject(self.walker, obj) if isinstance(obj, h5py.Group) else None

    @cached_property
    def description(self) -> Field | None:
        """NXmx: "name/manufacturer/model/etc. information", e.g. ``Eiger 16M``."""
        return self.field("description", text=True)

    @cached_property
    def type(self) -> Field | None:
        """NXdetector/type: "Description of type such as scintillator, ccd, pixel, image plate ..."."""
        return self.field("type", text=True)

    @cached_property
    def serial_number(self) -> Field | None:
        """NXdetector/serial_number (Dectris: ``detector_number``)."""
        return self._first("serial_number", "detector_number", text=True)

    @cached_property
    def distance(self) -> Field | None:
        """NXmx: "Distance from the sample to the beam center" (GDA and Dectris write ``detector_distance``)."""
        return self._first("distance", "detector_distance")

    @cached_property
    def beam_center_x(self) -> Field | None:
        """NXmx: "This is the x position where the direct beam would hit the detector" (length or pixels)."""
        return self.field("beam_center_x")

    @cached_property
    def beam_center_y(self) -> Field | None:
        """NXmx: "This is the y position where the direct beam would hit the detector"."""
        return self.field("beam_center_y")

    @cached_property
    def count_time(self) -> Field | None:
        """NXmx: "Elapsed actual counting time" (exposure per frame)."""
        return self.field("count_time")

    @cached_property
    def frame_time(self) -> Field | None:
        """NXmx: "This is time for each frame. This is exposure_time + readout time"."""
        return self.field("frame_time")

    @cached_property
    def sensor_material(self) -> Field | None:
        """NXmx: "the name of the material of the detector sensor" (required)."""
        return self.field("sensor_material", text=True)

    @cached_property
    def sensor_thickness(self) -> Field | None:
        """NXmx: "The thickness of the detector sensor" (required, NX_LENGTH)."""
        return self.field("sensor_thickness")

    @cached_property
    def saturation_value(self) -> Field | None:
        """NXmx: "The value at which the detector goes into saturation" (may be an ExternalLink into _meta.h5)."""
        return self.field("saturation_value")

    @cached_property
    def x_pixel_size(self) -> Field | None:
        """Legacy NXdetector/x_pixel_size: "Size of each detector pixel"."""
        return self.field("x_pixel_size")

    @cached_property
    def y_pixel_size(self) -> Field | None:
        """Legacy NXdetector/y_pixel_size."""
        return self.field("y_pixel_size")

    @cached_property
    def timestamp(self) -> Field | None:
        """Per-frame epoch timestamps (DIALS export; not an NXDL field)."""
        return self.field("timestamp")


class NXinstrument(NXobject):
    """NXinstrument: "Collection of the components of the instrument or beamline"."""

    nx_class = "NXinstrument"

    @cached_property
    def name(self) -> Field | None:
        """NXmx: "Name of instrument. Consistency with the controlled vocabulary beamline naming in
        _diffrn_source.pdbx_synchrotron_beamline ... is highly recommended"."""
        return self.field("name", text=True)

    @cached_property
    def short_name(self) -> Field | None:
        """``name@short_name``, or ``@short_name`` on the instrument group (Diamond GDA 2019)."""
        dataset = self.dataset("name")
        value = attr(dataset, "short_name") if dataset is not None else None
        if decode(value):
            return Field(f"{self.path}/name@short_name", value, None)
        found = self.attribute("short_name")
        return found if found is not None and found.text else None

    @cached_property
    def detectors(self) -> list[NXdetector]:
        return self.children(NXdetector)

    @cached_property
    def beams(self) -> list[NXbeam]:
        return self.children(NXbeam)

    @cached_property
    def attenuators(self) -> list[NXattenuator]:
        return self.children(NXattenuator)

    @cached_property
    def sources(self) -> list[NXsource]:
        """Pre-2024 Diamond GDA and i16 files keep the source here instead of at entry level."""
        return self.children(NXsource)


class NXsample(NXobject):
    """NXsample: "Any information on the sample"."""

    nx_class = "NXsample"

    @cached_property
    def name(self) -> Field | None:
        """NXmx: "Descriptive name of sample" (required; absent in Diamond GDA files)."""
        return self.field("name", text=True)

    @cached_property
    def temperature(self) -> Field | None:
        """NXsample/temperature: "Sample temperature"."""
        return self.field("temperature")

    @cached_property
    def depends_on_value(self) -> str | None:
        """NXmx: "This is a requirement to describe for any scan experiment. The axis on which the sample
        position depends may be stored anywhere, but is normally stored in the NXtransformations group";
        ``"."`` means no goniometer."""
        found = self.field("depends_on", text=True)
        return found.text if found is not None else None

    @cached_property
    def depends_on(self) -> NXtransformation | None:
        dataset = self.walker.open_id(self.group, "depends_on", "dataset")
        is_dataset = isinstance(dataset, h5py.h5d.DatasetID)
        base = name_of(dataset) if is_dataset else self.path
        target = self.walker.resolve_depends_on_id(self.depends_on_value, base, is_dataset)
        return NXtransformation(self.walker, target) if target is not None else None

    @cached_property
    def transformations(self) -> list[NXtransformations]:
        return self.children(NXtransformations)

    @cached_property
    def beams(self) -> list[NXbeam]:
        """NXbeam inside the sample (DIALS export, i16, a GDA copy)."""
        return self.children(NXbeam)


class NXdata(NXobject):
    """NXdata: the frames. NXmx: "data: For a dimension-2 detector, the rank of the data array will be 3";
    only its shape is used (never its values)."""

    nx_class = "NXdata"

    @cached_property
    def data(self) -> h5py.Dataset | None:
        signal = attr_str(self.group, "signal") or "data"
        return self.dataset(signal) or (self.dataset("data") if signal != "data" else None)


class NXentry(NXobject):
    """NXentry (NXmx): "Note, it is recommended that file_name and file_time are included as attributes at
    the root of a file that includes NXmx"; an NXsubentry with definition NXmx is read the same way."""

    nx_class = "NXentry"

    @cached_property
    def definition(self) -> str | None:
        """NXmx: "NeXus NXDL schema to which this file conforms" (``NXmx``)."""
        found = self.field("definition", text=True)
        return found.text if found is not None else None

    @cached_property
    def start_time(self) -> Field | None:
        """NXmx: "ISO 8601 time/date of the first data point collected in UTC, using the Z suffix"."""
        return self.field("start_time", text=True)

    @cached_property
    def end_time(self) -> Field | None:
        """NXmx: "ISO 8601 time/date of the last data point collected in UTC" (only if accurately observed)."""
        return self.field("end_time", text=True)

    @cached_property
    def end_time_estimated(self) -> Field | None:
        """NXmx: "ISO 8601 time/date of the last data point collected in UTC ... estimated"."""
        return self.field("end_time_estimated", text=True)

    @cached_property
    def instruments(self) -> list[NXinstrument]:
        return self.children(NXinstrument)

    @cached_property
    def samples(self) -> list[NXsample]:
        return self.children(NXsample)

    @cached_property
    def sources(self) -> list[NXsource]:
        """NXmx: the NXsource at entry level (older files: under the instrument, see NXinstrument)."""
        return self.children(NXsource)

    @cached_property
    def data_groups(self) -> list[NXdata]:
        return self.children(NXdata)

    @cached_property
    def subentries(self) -> list[NXentry]:
        """NXsubentry children (DIALS ``export format=nxs``: one per experiment)."""
        return [NXentry(self.walker, g) for g in self.walker.groups_of_class(self.group, "NXsubentry")]

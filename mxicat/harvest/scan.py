"""Rotation or still: the scan of one NXmx sample, decided the way dxtbx does (``dxtbx.nexus.get_dxtbx_scan``).

1. No ``sample/depends_on`` or ``"."`` → no goniometer: stills (XFEL, jets).
2. Walk the ``depends_on`` chain; the scan axis is the first *rotation* whose per-frame values vary, else the
   first varying axis of any type (chip or grid translations), else the ``depends_on`` axis itself.
3. Oscillation (rotations only): start = ``axis[0]``; width = median of ``axis_end - axis``, else the
   ``axis_increment_set``, else the median of ``diff(axis)``, else 0. A warning when a width differs from the
   median by more than 10 %, and when two rotation axes vary (dxtbx refuses those).
4. A rotation scan axis with a non-zero width is a **rotation**; anything else is a **still** (zero increments
   of an extruder, fixed target and grid scans, no goniometer).

Dectris filewriter files ("nearly NeXus") have no ``depends_on``; their goniometer is a group of
``AXIS_start``/``AXIS_increment`` fields, read as a fallback (``AXIS_range_total`` is not trusted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mxicat.harvest.nexus import Field, NXsample, NXtransformation, depends_on_chain
from mxicat.harvest.result import ScanType

#: Dectris goniometer axes in the order a rotation scan is looked for
DECTRIS_AXES: tuple[str, ...] = ("omega", "phi", "kappa", "chi")


@dataclass
class Scan:
    """What the goniometer says about one sweep."""

    scan_type: ScanType  #: "rotation" or "still"
    axis: str | None = None  #: name of the scan axis (rotations and varying translations)
    start: Field | None = None  #: first axis value (rotations)
    width: float | None = None  #: oscillation width per frame in ``start.units``
    width_path: str | None = None  #: where the width came from
    points: int | None = None  #: number of scan points (per-frame axis length)
    points_path: str | None = None
    warnings: list[str] = field(default_factory=list)


def _median_width(axis: NXtransformation, values: np.ndarray) -> tuple[float, str | None, np.ndarray | None]:
    end = axis.end.floats if axis.end is not None else None
    if end is not None and end.size == values.size:
        widths = end - values
        return float(np.median(widths)), axis.end.path if axis.end else None, widths
    increment = axis.increment_set.floats if axis.increment_set is not None else None
    if increment is not None:
        return float(np.median(increment)), axis.increment_set.path if axis.increment_set else None, increment
    if values.size > 1:
        widths = np.diff(values)
        return float(np.median(widths)), axis.path, widths
    return 0.0, None, None


def _from_chain(sample: NXsample) -> Scan:
    chain = depends_on_chain(sample.depends_on)
    if not chain:
        scan = Scan("still")
        value = sample.depends_on_value
        if value and value != ".":
            scan.warnings.append(f"{sample.path}/depends_on points to {value!r}, which does not exist")
        return scan
    rotations = [t for t in chain if t.varies and t.transformation_type == "rotation"]
    warnings: list[str] = []
    if len(rotations) > 1:
        names = ", ".join(t.name for t in rotations)
        warnings.append(f"more than one rotation axis varies ({names}); using {rotations[0].name}")
    axis = rotations[0] if rotations else next((t for t in chain if t.varies), chain[0])
    values = axis.values
    points = int(values.size) if values is not None else None
    if axis.transformation_type != "rotation" or values is None:
        return Scan("still", axis=axis.name, points=points, points_path=axis.path, warnings=warnings)
    width, width_path, widths = _median_width(axis, values)
    if widths is not None and width != 0 and np.any(np.abs(widths - width) > 0.1 * abs(width)):
        warnings.append(f"oscillation widths of {axis.name} differ from their median {width:g} by more than 10%")
    start = Field(axis.path, values[:1], axis.units)
    scan_type: ScanType = "rotation" if width != 0 else "still"
    return Scan(scan_type, axis.name, start, width, width_path, points, axis.path, warnings)


def _from_dectris(sample: NXsample) -> Scan | None:
    warnings: list[str] = []
    for group in sample.transformations:
        for name in DECTRIS_AXES:
            start = group.field(f"{name}_start")
            increment = group.field(f"{name}_increment")
            if start is None or increment is None or not increment.first:
                continue
            width = increment.first
            if increment.units and start.units and increment.units != start.units:
                # both are angles; keep the start's unit by converting through the canonical degree
                from mxicat.harvest import units

                try:
                    width = units.convert(width, increment.units, "oscillation_width") / units.convert(
                        1.0, start.units, "oscillation_width"
                    )
                except units.UnitError as err:
                    warnings.append(f"{increment.path}: units {increment.units!r} and {start.units!r} of "
                                    f"{start.path} are not both angles ({err}); axis {name} skipped")
                    continue
            return Scan("rotation", name, start, width, increment.path, warnings=warnings)
    return Scan("still", warnings=warnings) if warnings else None


def sample_scan(sample: NXsample | None) -> Scan:
    """The :class:`Scan` of ``sample`` (no sample → a still with no axis)."""
    if sample is None:
        return Scan("still")
    if sample.depends_on_value is None:
        return _from_dectris(sample) or Scan("still")
    return _from_chain(sample)

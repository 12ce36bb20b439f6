"""Detector distance from the NXmx module geometry, for files that carry no distance field.

DIALS exports (and some writers) give the detector position only through the module's ``depends_on`` chain
(``fast_pixel_direction`` → ``module_offset`` → … → ``"."``). The sample-to-detector distance is the distance
from the origin (the sample) to the detector plane: ``|origin · n|`` with ``n = fast × slow`` (NXmx: the
``distance`` field is "the distance to the beam centre", which equals this for a detector normal to the beam).

Only chains made of translations and zero-angle rotations are evaluated: with rotated detector arms (two-theta,
the i16 six-circle ``delta``/``gamma``) the plane distance needs the full rotation algebra and a trustworthy
axis convention, which real files do not guarantee, so no value is derived and none is invented.
"""

from __future__ import annotations

import numpy as np

from mxicat.harvest import units
from mxicat.harvest.nexus import NXdetector_module, NXtransformation, depends_on_chain
from mxicat.harvest.nxwalk import as_floats, attr, attr_str


def _unit_vector(axis: NXtransformation) -> np.ndarray | None:
    vector = axis.vector
    if vector is None or len(vector) != 3:
        return None
    array = np.asarray(vector, dtype=float)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else None


def _rotated(axis: NXtransformation) -> bool:
    """A rotation whose (first) angle is not zero: a rotated detector arm."""
    return axis.transformation_type == "rotation" and axis.values is not None and bool(np.any(axis.values[:1] != 0))


def derived_distance(module: NXdetector_module) -> tuple[float, str] | None:
    """(distance in mm, path of the first chain element) from the module geometry, or ``None``."""
    fast_set, slow_set = module.dataset("fast_pixel_direction"), module.dataset("slow_pixel_direction")
    if fast_set is None or slow_set is None:
        return None
    fast = NXtransformation(module.walker, fast_set)
    chain = depends_on_chain(fast.depends_on, stop=_rotated)
    if not chain or _rotated(chain[-1]):
        return None  # no chain, or a rotated detector arm: not evaluated (see the module docstring)
    fast_u, slow_u = _unit_vector(fast), _unit_vector(NXtransformation(module.walker, slow_set))
    if fast_u is None or slow_u is None:
        return None
    normal = np.cross(fast_u, slow_u)
    if np.linalg.norm(normal) == 0:
        return None
    origin = np.zeros(3)
    for axis in chain:
        values = axis.values
        value = float(values[0]) if values is not None else 0.0
        offset = as_floats(attr(axis.id, "offset"))
        offset_unit = attr_str(axis.id, "offset_units") or axis.units
        if axis.transformation_type == "rotation":
            if value != 0.0:
                return None  # a rotated detector arm: not evaluated (see the module docstring)
            unit_of_offset = (
                offset_unit
                if offset_unit and units.normalise_unit(offset_unit) not in ("deg", "degree", "rad")
                else None
            )
        elif axis.transformation_type == "translation":
            direction = _unit_vector(axis)
            if direction is None and value != 0.0:
                return None
            if direction is not None:
                origin = origin + direction * units.convert(value, axis.units or "m", "detector_distance")
            unit_of_offset = offset_unit
        else:
            return None
        if offset is not None and offset.size == 3 and np.any(offset != 0):
            if unit_of_offset is None:
                return None
            origin = origin + offset * units.convert(1.0, unit_of_offset, "detector_distance")
    return abs(float(np.dot(origin, normal / np.linalg.norm(normal)))), chain[0].path

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

import math

import h5py

from mxicat.harvest import units
from mxicat.harvest.h5values import as_floats, decode
from mxicat.harvest.nexus import NXdetector_module, NXtransformation, depends_on_chain

#: a 3-vector as plain floats (numpy's per-call overhead is most of the cost on three elements)
Vector = tuple[float, float, float]


def _unit_vector(axis: NXtransformation) -> Vector | None:
    vector = axis.vector
    if vector is None or len(vector) != 3:
        return None
    return _normalised((float(vector[0]), float(vector[1]), float(vector[2])))


def _normalised(vector: Vector) -> Vector | None:
    norm = math.sqrt(vector[0] * vector[0] + vector[1] * vector[1] + vector[2] * vector[2])
    return (vector[0] / norm, vector[1] / norm, vector[2] / norm) if norm > 0 else None


def _cross(a: Vector, b: Vector) -> Vector:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _rotated(axis: NXtransformation) -> bool:
    """A rotation whose (first) angle is not zero: a rotated detector arm."""
    return axis.transformation_type == "rotation" and axis.values is not None and float(axis.values[0]) != 0


def derived_distance(module: NXdetector_module) -> tuple[float, str] | None:
    """(distance in mm, path of the first chain element) from the module geometry, or ``None``."""
    fast_set = module.walker.open_id(module.group, "fast_pixel_direction", "dataset")
    slow_set = module.walker.open_id(module.group, "slow_pixel_direction", "dataset")
    if not isinstance(fast_set, h5py.h5d.DatasetID) or not isinstance(slow_set, h5py.h5d.DatasetID):
        return None
    fast = NXtransformation(module.walker, fast_set)
    chain = depends_on_chain(fast.depends_on, stop=_rotated)
    if not chain or _rotated(chain[-1]):
        return None  # no chain, or a rotated detector arm: not evaluated (see the module docstring)
    fast_u, slow_u = _unit_vector(fast), _unit_vector(NXtransformation(module.walker, slow_set))
    if fast_u is None or slow_u is None:
        return None
    normal = _normalised(_cross(fast_u, slow_u))
    if normal is None:
        return None
    origin = [0.0, 0.0, 0.0]
    for axis in chain:
        values = axis.values
        value = float(values[0]) if values is not None else 0.0
        offset = as_floats(axis.attribute("offset"))
        offset_unit = decode(axis.attribute("offset_units")) or axis.units
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
                length = units.convert(value, axis.units or "m", "detector_distance")
                origin = [origin[i] + direction[i] * length for i in range(3)]
            unit_of_offset = offset_unit
        else:
            return None
        if offset is not None and offset.size == 3 and any(float(v) != 0 for v in offset):
            if unit_of_offset is None:
                return None
            scale = units.convert(1.0, unit_of_offset, "detector_distance")
            origin = [origin[i] + float(offset[i]) * scale for i in range(3)]
    return abs(origin[0] * normal[0] + origin[1] * normal[1] + origin[2] * normal[2]), chain[0].path

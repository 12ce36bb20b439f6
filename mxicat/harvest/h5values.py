"""Reading attribute and small-dataset values through h5py's low-level API, and normalising what comes back.

Real NXmx files store strings as ``str``, ``bytes``, ``np.bytes_``, padded fixed-length or object arrays and
1-element arrays (even ``@NX_class``), and spell the unit attribute ``units``, ``unit`` or ``u``
(standards.md §1.3). The readers here accept all of that, never read pixel data and never raise: an absent,
empty or unreadable value is ``None``. Memory types and dtypes are built once per stored type, not per read
(a harvest reads a few hundred attributes and fields). The walker over groups and links is
:mod:`mxicat.harvest.nxwalk`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import h5py
import numpy as np
from h5py import h5a, h5o, h5s, h5t

#: attribute names under which writers store a field's unit, most common first (nexgen writes ``u``)
UNIT_ATTRIBUTES: tuple[str, ...] = ("units", "unit", "u", "Units")
_UNIT_KEYS: tuple[tuple[str, bytes], ...] = tuple((n, n.encode()) for n in UNIT_ATTRIBUTES)

#: a dataset larger than this is never read whole by :func:`read_value` (pixel data, masks, flat fields)
MAX_READ_ELEMENTS = 1_000_000


def decode(value: Any) -> str | None:
    """One ``str`` for whatever h5py hands back for a string (bytes, np.bytes_, 0-d/1-element arrays)."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return None
        if value.size != 1:
            return None
        value = value.reshape(-1)[0]
    if isinstance(value, bytes | np.bytes_):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        text = value.replace("\x00", "").strip()
        return text or None
    return None


def decode_all(values: Any) -> list[str]:
    """The non-empty strings of a string dataset's value (scalar or array), each as :func:`decode` gives it."""
    if values is None:
        return []
    if isinstance(values, np.ndarray) and values.dtype.kind in "SO":
        found = []
        for value in values.reshape(-1).tolist():  # bytes (numpy strips trailing NULs) or str
            if isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
            text = value.replace("\x00", "").strip() if isinstance(value, str) else decode(value)
            if text:
                found.append(text)
        return found
    return [f for f in (decode(v) for v in np.asarray(values).reshape(-1)) if f]


def attribute_names(obj: h5py.HLObject | h5py.h5o.ObjectID) -> list[bytes]:
    """The attribute names of ``obj`` in one HDF5 call (empty when unreadable), for :func:`attr` and
    :func:`units_of` to skip an existence check per name."""
    names: list[bytes] = []
    try:
        h5a.iterate(obj.id if isinstance(obj, h5py.HLObject) else obj, names.append)
    except (KeyError, OSError, RuntimeError, ValueError):
        return []
    return names


def attr(
    obj: h5py.HLObject | h5py.h5o.ObjectID, name: str, *, child: str | None = None, names: list[bytes] | None = None
) -> Any:
    """Attribute ``name`` of ``obj`` (a high-level object or a low-level id), or of its member ``child``
    without opening it; ``None`` when absent, empty or unreadable (never raises). Fixed-size strings and
    numbers come back as a scalar (one element) or a flat array; use :func:`decode` / :func:`as_floats`.

    Reads through the low-level API: ``obj.attrs.get`` costs a KeyError for every absent name and a type
    conversion round trip for present ones, which dominated a harvest's run time. Strings and plain numbers
    are read with a memory type built once per type (:func:`_memory_type`); anything else (vlen numbers,
    references, enums, array-typed attributes) goes through h5py's general path. ``names`` (from
    :func:`attribute_names`) answers whether the attribute is there without asking HDF5.
    """
    oid = obj.id if isinstance(obj, h5py.HLObject) else obj
    key = name.encode()
    try:
        if child:  # asked for a member's class, which is nearly always there: no separate existence check
            attribute = h5a.open(oid, key, obj_name=child.encode())
        else:
            if key not in names if names is not None else not h5a.exists(oid, key):
                return None
            attribute = h5a.open(oid, key)
        return _read_attribute(attribute, oid, name, child)
    except (KeyError, OSError, RuntimeError, TypeError, ValueError):
        return None


#: attribute name → encoding, for names whose last read in the current file was a variable-length string: the
#: next one is read as such without asking its type (HDF5 refuses to convert anything else to a variable-length
#: string, so a wrong guess fails and is read the general way); a writer uses one string kind for a name
_VLEN_NAMES: dict[str, str] = {}


def forget_string_kinds() -> None:
    """Start learning attribute string kinds afresh (a new file may come from another writer); only speed
    depends on it, never a value."""
    _VLEN_NAMES.clear()


def _read_attribute(attribute: h5py.h5a.AttrID, oid: Any, name: str, child: str | None) -> Any:
    """The value of an open attribute (see :func:`attr`); raises what h5py raises."""
    guess = _VLEN_NAMES.get(name)
    if guess is not None:
        stored = h5a.get_info(attribute).data_size
        if stored:
            try:
                return _read_vlen(attribute, stored, _vlen_string_type(guess))
            except (KeyError, OSError, RuntimeError, TypeError, ValueError):
                _VLEN_NAMES.pop(name, None)
    tid = attribute.get_type()
    kind = tid.get_class()
    if kind == h5t.STRING and tid.is_variable_str():
        encoding = _ENCODINGS.get(tid.get_cset(), "ascii")
        _VLEN_NAMES[name] = encoding
        mtype = _vlen_string_type(encoding)
        stored = h5a.get_info(attribute).data_size
        if stored:
            return _read_vlen(attribute, stored, mtype)
        space = attribute.get_space()
        if space.get_simple_extent_type() == h5s.NULL:  # empty dataspace
            return None
        value = np.empty(space.shape, dtype=object)
        attribute.read(value, mtype=mtype)
    elif kind == h5t.STRING or kind == h5t.INTEGER or kind == h5t.FLOAT:
        # fixed-size elements: their number from the stored size (no dataspace object to build); callers
        # treat a 1-element attribute like a scalar and flatten arrays, so the shape is not needed
        size = tid.get_size()
        count, rest = divmod(h5a.get_info(attribute).data_size, size) if size else (0, 0)
        if count == 0 or rest:
            return None
        dtype, mtype = _fixed_types(tid, kind, size)
        if mtype is None:
            return _high_level(h5o.open(oid, child.encode()) if child else oid).attrs[name]
        value = np.empty(() if count == 1 else (count,), dtype=dtype)
        attribute.read(value, mtype=mtype)
    else:  # enums (booleans), references, vlen numbers, array-typed attributes: h5py's general path
        target = h5o.open(oid, child.encode()) if child else oid
        return _high_level(target).attrs[name]
    return value[()] if value.ndim == 0 else value


def _read_vlen(attribute: h5py.h5a.AttrID, stored: int, mtype: h5py.h5t.TypeID) -> Any:
    """A variable-length string attribute of ``stored`` bytes: one element as a scalar, else an array.

    No dataspace object: a stored variable-length element takes at least 8 bytes (16 in practice), so the
    buffer holds them all; the slots after the last element stay None (an empty string is b"").
    """
    value = np.empty(stored // 8 + 2, dtype=object)
    attribute.read(value, mtype=mtype)
    if value[1] is None:
        return value[0]
    return value[: next(i for i, v in enumerate(value) if v is None)]


#: HDF5 character sets → the encodings h5py names them by
_ENCODINGS: dict[int, str] = {h5t.CSET_ASCII: "ascii", h5t.CSET_UTF8: "utf-8"}


@functools.cache
def _bytes_dtype(size: int) -> np.dtype[Any]:
    return np.dtype(f"S{size}")


@functools.cache
def _memory_type(dtype: str, encoding: str | None = None) -> h5py.h5t.TypeID:
    """The HDF5 memory type h5py would build for ``dtype`` (numpy type string; fixed-length strings with
    their encoding), built once instead of on every read."""
    if encoding is not None:
        return h5t.py_create(h5py.string_dtype(encoding, int(dtype[2:])))
    return h5t.py_create(np.dtype(dtype))


def name_of(oid: Any) -> str:
    """HDF5 path of an open object id as ``str(h5py_object.name)`` gives it, without building the object."""
    name = h5py.h5i.get_name(oid)
    try:
        return name.decode("utf8")
    except (AttributeError, UnicodeDecodeError):  # anonymous (None) or not UTF-8: what str() of h5py's name says
        return str(name)


def _high_level(oid: Any) -> h5py.HLObject:
    if isinstance(oid, h5py.h5d.DatasetID):
        return h5py.Dataset(oid)
    return h5py.Group(oid)


def read_id(dataset: h5py.h5d.DatasetID, shape: tuple[int, ...] | None = None) -> Any:
    """The value of a small dataset read through its low-level id (about twice as fast as wrapping it in
    ``h5py.Dataset`` and indexing); ``None`` if unreadable, empty-shaped or larger than
    :data:`MAX_READ_ELEMENTS`.

    The numpy type comes from :func:`_fixed_types` (h5py's own ``dtype`` of a freshly opened dataset costs
    more than the read itself); other kinds of data go through h5py's general path. ``shape``: the
    dataset's shape when the caller has it already.
    """
    try:
        if shape is None:
            shape = dataset.get_space().shape
        if shape is None or math.prod(shape) > MAX_READ_ELEMENTS:
            return None
        tid = dataset.get_type()
        kind = tid.get_class()
        if kind == h5t.STRING and tid.is_variable_str():
            value = np.empty(shape, dtype=_vlen_string_dtype(_ENCODINGS.get(tid.get_cset(), "ascii")))
            dataset.read(h5s.ALL, h5s.ALL, value, mtype=_vlen_string_type(_ENCODINGS.get(tid.get_cset(), "ascii")))
        elif kind == h5t.STRING or kind == h5t.INTEGER or kind == h5t.FLOAT:
            dtype, mtype = _fixed_types(tid, kind)
            if mtype is None:  # a number type h5py maps to a special dtype: its general path
                return h5py.Dataset(dataset)[()]
            value = np.empty(shape, dtype=dtype)
            dataset.read(h5s.ALL, h5s.ALL, value, mtype=mtype)
        else:  # enums, vlen numbers, references, compounds, array types: h5py's general path
            return h5py.Dataset(dataset)[()]
    except (KeyError, OSError, RuntimeError, TypeError, ValueError):
        return None
    return value[()] if value.ndim == 0 else value


#: standard HDF5 number types → (their numpy dtype, the memory type h5py reads them with), by
#: (class, size, byte order, sign); a stored type is mapped only when ``H5Tequal`` confirms it is that type
_NUMBER_TYPES: dict[tuple[int, int, int, int], tuple[h5py.h5t.TypeID, np.dtype[Any]]] = {}
for _order, _prefix in ((h5t.ORDER_LE, "<"), (h5t.ORDER_BE, ">")):
    for _size in (1, 2, 4, 8):
        for _sign, _letter in ((h5t.SGN_2, "i"), (h5t.SGN_NONE, "u")):
            _std = h5t.py_create(np.dtype(f"{_prefix}{_letter}{_size}"))
            _NUMBER_TYPES[(h5t.INTEGER, _size, _order, _sign)] = (_std, np.dtype(f"{_prefix}{_letter}{_size}"))
    for _size in (4, 8):
        _std = h5t.py_create(np.dtype(f"{_prefix}f{_size}"))
        _NUMBER_TYPES[(h5t.FLOAT, _size, _order, -1)] = (_std, np.dtype(f"{_prefix}f{_size}"))


def _fixed_types(tid: h5py.h5t.TypeID, kind: int, size: int | None = None) -> tuple[np.dtype[Any], Any]:
    """(numpy dtype, memory type) for reading a fixed-size string or number stored as ``tid`` (of class
    ``kind``; ``size``: its size when known) — what h5py's ``tid.dtype`` and its read would use, without
    building either per read. Numbers outside :data:`_NUMBER_TYPES` get h5py's dtype and its memory type
    (``None`` when h5py gives a dtype numpy cannot read into directly)."""
    if size is None:
        size = tid.get_size()
    if kind == h5t.STRING:
        return _fixed_string_types(size, tid.get_cset())
    key = (kind, size, tid.get_order(), tid.get_sign() if kind == h5t.INTEGER else -1)
    known = _NUMBER_TYPES.get(key)
    if known is not None and tid.equal(known[0]):
        return known[1], known[0]  # the standard type is the memory type h5py builds for that dtype
    dtype = tid.dtype
    if dtype.kind not in "fiu" or dtype.subdtype is not None or dtype.metadata:
        return dtype, None
    return dtype, _memory_type(dtype.str)


@functools.cache
def _fixed_string_types(size: int, cset: int) -> tuple[np.dtype[Any], Any]:
    """(dtype, memory type) of a fixed-length string of ``size`` bytes in character set ``cset``."""
    encoding = _ENCODINGS.get(cset, "ascii")
    return _string_dtype(encoding, size), _memory_type(_bytes_dtype(size).str, encoding)


@functools.cache
def _string_dtype(encoding: str, size: int) -> np.dtype[Any]:
    return h5py.string_dtype(encoding, size)


@functools.cache
def _vlen_string_dtype(encoding: str) -> np.dtype[Any]:
    return h5py.string_dtype(encoding)


@functools.cache
def _vlen_string_type(encoding: str) -> h5py.h5t.TypeID:
    """HDF5 memory type for reading variable-length strings (building one per read is slow)."""
    return h5py.h5t.py_create(h5py.string_dtype(encoding))


def attr_str(obj: h5py.HLObject | h5py.h5o.ObjectID, name: str) -> str | None:
    """Attribute ``name`` decoded as a string, or ``None``."""
    return decode(attr(obj, name))


def nx_class(obj: h5py.HLObject) -> str | None:
    """The ``@NX_class`` of a group (bytes, str or 1-element array), or ``None``."""
    return attr_str(obj, "NX_class")


def units_of(obj: h5py.HLObject | h5py.h5o.ObjectID, names: list[bytes] | None = None) -> str | None:
    """The unit string of a field from any of :data:`UNIT_ATTRIBUTES`, or ``None`` when there is none.

    The attribute names are listed once (one HDF5 call, or ``names`` from :func:`attribute_names`) instead of
    probing each spelling: most fields without a unit have no attribute at all.
    """
    oid = obj.id if isinstance(obj, h5py.HLObject) else obj
    if names is None:
        names = attribute_names(oid)
    for name, key in _UNIT_KEYS:
        if key in names:
            try:
                text = decode(_read_attribute(h5a.open(oid, key), oid, name, None))
            except (KeyError, OSError, RuntimeError, TypeError, ValueError):
                continue
            if text:
                return text
    return None


def read_value(dataset: h5py.Dataset) -> Any:
    """The value of a small dataset (numpy scalar or array); ``None`` if unreadable or too large."""
    return read_id(dataset.id)


def as_floats(value: Any) -> np.ndarray | None:
    """``value`` as a 1-D float array (scalars become length 1), or ``None`` when it is not numeric."""
    if value is None:
        return None
    try:
        raw = np.asarray(value)
        if raw.dtype == np.float32:  # shortest float32 repr, so 0.9801122 stays 0.9801122 (not …21950)
            raw = raw.astype(str)
        array = raw.astype(float).reshape(-1)
    except (TypeError, ValueError):
        return None
    return array if array.size else None

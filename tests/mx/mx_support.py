"""Helpers of the MX layer tests: small generated NXmx and mmCIF files, catalogue openers.

Tests build their own inputs so a fresh clone without ``../shared/testdata`` still covers the MX layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mxicat.mx import MxCatalogue, open_catalogue


def open_mx(path: Path) -> MxCatalogue:
    """The administrator's MxCatalogue on a (new) embedded catalogue file."""
    return open_catalogue(f"sqlite:///{path}")


def _group(parent: h5py.Group, name: str, nx_class: str) -> h5py.Group:
    group = parent.create_group(name)
    group.attrs["NX_class"] = nx_class
    return group


def _number(parent: h5py.Group, name: str, value: Any, units: str | None = None, **attrs: Any) -> None:
    data = parent.create_dataset(name, data=value)
    if units:
        data.attrs["units"] = units
    for key, val in attrs.items():
        data.attrs[key] = val


def write_nxmx(path: Path, *, sample: str = "lyso1", wavelength: float = 0.9763, frames: int = 20,
               start_time: str = "2024-03-01T10:00:00Z", exposure: float = 0.01,
               entries: int = 1) -> Path:
    """A minimal NXmx master file: rotation sweep(s) on omega, beam, detector, sample; dangling VDS."""
    with h5py.File(path, "w") as f:
        for index in range(entries):
            entry = _group(f, "entry" if entries == 1 else f"entry{index + 1}", "NXentry")
            entry.create_dataset("definition", data="NXmx")
            entry.create_dataset("start_time", data=start_time)
            entry.create_dataset("end_time", data=start_time.replace("10:00:00", "10:05:00"))
            instrument = _group(entry, "instrument", "NXinstrument")
            instrument.create_dataset("name", data="ESRF BEAMLINE ID23-2")
            source = _group(entry, "source", "NXsource")
            source.create_dataset("name", data="European Synchrotron Radiation Facility")
            source.create_dataset("type", data="Synchrotron X-ray Source")
            beam = _group(instrument, "beam", "NXbeam")
            _number(beam, "incident_wavelength", wavelength + 0.001 * index, "angstrom")
            detector = _group(instrument, "detector", "NXdetector")
            detector.create_dataset("description", data="Eiger2 X 9M")
            _number(detector, "distance", 0.25, "m")
            _number(detector, "count_time", exposure, "s")
            sample_group = _group(entry, "sample", "NXsample")
            sample_group.create_dataset("name", data=sample)
            prefix = f"{entry.name}/sample/transformations/"
            sample_group.create_dataset("depends_on", data=prefix + "omega")
            transformations = _group(sample_group, "transformations", "NXtransformations")
            omega = 10.0 + 0.1 * np.arange(frames)
            _number(transformations, "omega", omega, "deg", transformation_type="rotation",
                    depends_on=".", vector=np.array([-1.0, 0, 0]))
            _number(transformations, "omega_end", omega + 0.1, "deg")
            data = _group(entry, "data", "NXdata")
            layout = h5py.VirtualLayout(shape=(frames, 4, 4), dtype="uint16")
            layout[:] = h5py.VirtualSource(f"{path.stem}_data_000001.h5", "data", shape=(frames, 4, 4))
            data.create_virtual_dataset("data", layout)
    return path


MMCIF_TEMPLATE = """data_{name}
#
_software.pdbx_ordinal 1
_software.name '{program}'
_software.version '{version}'
_software.classification 'data scaling'
#
_symmetry.entry_id {name}
_symmetry.space_group_name_H-M '{space_group}'
#
_cell.entry_id {name}
_cell.length_a {a}
_cell.length_b {a}
_cell.length_c 38.1
_cell.angle_alpha 90.0
_cell.angle_beta 90.0
_cell.angle_gamma 90.0
#
_reflns.entry_id {name}
_reflns.pdbx_ordinal 1
_reflns.pdbx_diffrn_id 1
_reflns.d_resolution_low 39.5
_reflns.d_resolution_high {d_min}
_reflns.number_obs 15000
_reflns.percent_possible_obs 99.5
_reflns.pdbx_redundancy 6.5
_reflns.pdbx_netI_over_sigmaI 12.1
_reflns.pdbx_Rmerge_I_obs 0.071
_reflns.pdbx_CC_half 0.998
#
loop_
_reflns_shell.pdbx_ordinal
_reflns_shell.pdbx_diffrn_id
_reflns_shell.d_res_high
_reflns_shell.d_res_low
_reflns_shell.percent_possible_all
_reflns_shell.Rmerge_I_obs
_reflns_shell.pdbx_CC_half
1 1 {d_min} {d_outer_low} 97.0 0.85 0.45
2 1 5.10 39.5 99.9 0.031 0.999
"""


def write_mmcif(path: Path, *, name: str = "result", program: str = "XSCALE", version: str = "2019",
                space_group: str = "P 43 21 2", a: float = 79.1, d_min: float = 1.5) -> Path:
    """A small PDBx file with _software, _symmetry, _cell, _reflns and two _reflns_shell rows."""
    text = MMCIF_TEMPLATE.format(name=name, program=program, version=version, space_group=space_group,
                                 a=a, d_min=d_min, d_outer_low=round(d_min + 0.05, 2))
    path.write_text(text, encoding="utf-8")
    return path


ROOT_PASSWORD = "root-pw"


@contextmanager
def serve(root: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Run ``mxicat serve`` on a free 127.0.0.1 port with its own catalogue file and users file."""
    from mxicat.catalogue.embedded.auth import write_simple_user
    from mxicat.http.launcher import serve_subprocess

    auth_file = root / "users.yaml"
    write_simple_user(auth_file, "root", ROOT_PASSWORD)
    write_simple_user(auth_file, "jdoe", "jdoe-pw")  # an ordinary user, no rules: may create nothing
    settings = {"catalogue": f"sqlite:///{root / 'served.db'}", "auth_file": auth_file,
                "root_user_names": ["simple/root"], "outbox": root / "outbox.db"}
    with serve_subprocess(settings, log_path=root / "serve.log") as site:
        yield site.icat_url, {"plugin": "simple", "username": "root", "password": ROOT_PASSWORD}

"""DIALS experiment lists (``*.expt``, JSON) → :class:`HarvestResult`, one sweep per experiment.

SSX data often reach a catalogue only as DIALS output: ``dials.stills_process`` / ``dials.ssx_index`` write one
experiment per lattice, each with its beam, detector and one-image imageset, and no goniometer or scan
(stills). The collection metadata of each experiment (wavelength, detector, images) is harvested here in the
same canonical terms as NXmx; crystal models, cells and profile parameters are processing results and are left
to the processed-data importer. Sources are JSON pointers into the file (``/beam/0/wavelength``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from mxicat.harvest import units
from mxicat.harvest.result import Datafile, HarvestError, HarvestResult, MetadataValue, ScanType, Sweep


def is_experiment_list(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` looks like a DIALS experiment list (JSON with ``__id__ = ExperimentList``)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and b'"ExperimentList"' in head


def _model(data: dict[str, Any], kind: str, index: Any) -> tuple[dict[str, Any] | None, str]:
    models = data.get(kind) or []
    if isinstance(index, int) and 0 <= index < len(models):
        return models[index], f"/{kind}/{index}"
    return None, f"/{kind}"


class _Record:
    def __init__(self) -> None:
        self.metadata: dict[str, MetadataValue] = {}
        self.sources: dict[str, str] = {}

    def put(self, term: str, value: MetadataValue | None, pointer: str, unit: str | None = None) -> None:
        if value is None or term in self.metadata:
            return
        if unit is not None and isinstance(value, int | float):
            value = float(f"{units.convert(float(value), unit, term):.10g}")
        self.metadata[term] = value
        self.sources[term] = pointer


def _experiment(data: dict[str, Any], index: int, expt: dict[str, Any], base: str, master: str) -> Sweep:
    record = _Record()
    warnings: list[str] = []
    beam, beam_ptr = _model(data, "beam", expt.get("beam"))
    if beam and beam.get("wavelength"):
        record.put("wavelength", beam["wavelength"], f"{beam_ptr}/wavelength", "angstrom")
        energy = units.hc_kev_angstrom() / float(beam["wavelength"])
        record.put("photon_energy", energy, f"{beam_ptr}/wavelength", "keV")
        if beam.get("flux"):
            record.put("flux", beam["flux"], f"{beam_ptr}/flux", "photon/s")
    detector, det_ptr = _model(data, "detector", expt.get("detector"))
    panels = (detector or {}).get("panels") or []
    if panels:
        panel, ptr = panels[0], f"{det_ptr}/panels/0"
        record.put("detector_model", panel.get("type") or None, f"{ptr}/type")
        record.put("sensor_material", panel.get("material") or None, f"{ptr}/material")
        if panel.get("thickness"):
            record.put("sensor_thickness", panel["thickness"], f"{ptr}/thickness", "mm")
        pixel = panel.get("pixel_size") or []
        if len(pixel) == 2:
            record.put("pixel_size_x", pixel[0], f"{ptr}/pixel_size", "mm")
            record.put("pixel_size_y", pixel[1], f"{ptr}/pixel_size", "mm")
        fast, slow, origin = (np.asarray(panel.get(k) or [0, 0, 0], float)
                              for k in ("fast_axis", "slow_axis", "origin"))
        normal = np.cross(fast, slow)
        if np.linalg.norm(normal) > 0:  # dxtbx Panel.get_distance(): origin · unit normal, in mm
            distance = abs(float(np.dot(origin, normal / np.linalg.norm(normal))))
            record.put("detector_distance", distance, f"{ptr}/origin", "mm")
    scan, scan_ptr = _model(data, "scan", expt.get("scan"))
    imageset, set_ptr = _model(data, "imageset", expt.get("imageset"))
    images = [str(i) for i in (imageset or {}).get("images") or []]
    oscillation = (scan or {}).get("oscillation") or [0.0, 0.0]
    rotation = bool(scan) and float(oscillation[1]) != 0.0
    if rotation:
        record.put("oscillation_start", oscillation[0], f"{scan_ptr}/oscillation", "deg")
        record.put("oscillation_width", oscillation[1], f"{scan_ptr}/oscillation", "deg")
    image_range = (scan or {}).get("image_range")
    if image_range and len(image_range) == 2:
        record.put("number_of_images", int(image_range[1]) - int(image_range[0]) + 1, f"{scan_ptr}/image_range")
    elif images:
        record.put("number_of_images", len(images), f"{set_ptr}/images")
    exposure = ((scan or {}).get("properties") or {}).get("exposure_time") or (scan or {}).get("exposure_time")
    if exposure:
        record.put("exposure_time", float(np.median(exposure)), f"{scan_ptr}/exposure_time", "s")
    scan_type: ScanType = "rotation" if rotation else "still"
    record.put("scan_type", scan_type, scan_ptr if scan else f"/experiment/{index}")
    files: list[Datafile] = [Datafile(path=master, exists=True, kind="master", target=None)]
    for image in images:
        resolved = os.path.normpath(os.path.join(base, image))
        exists = os.path.exists(resolved)
        files.append(Datafile(path=resolved, exists=exists, kind="data", target=None))
        if not exists:
            warnings.append(f"missing image {image} of {set_ptr} (not found: {resolved})")
    return Sweep(scan_type, record.metadata, record.sources, files, warnings, entry=f"/experiment/{index}")


def harvest_dials_expt(path: str | os.PathLike[str]) -> HarvestResult:
    """Harvest a DIALS experiment list: one :class:`Sweep` per experiment.

    Raises:
        HarvestError: the file is missing, not JSON, or not an experiment list.
    """
    text = os.fspath(path)
    try:
        with open(text, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError as err:
        raise HarvestError(text, "no such file") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HarvestError(text, f"not a DIALS experiment list ({err})") from err
    if not isinstance(data, dict) or data.get("__id__") != "ExperimentList":
        raise HarvestError(text, "not a DIALS experiment list (no __id__ = ExperimentList)")
    experiments = data.get("experiment") or []
    if not experiments:
        raise HarvestError(text, "DIALS experiment list without experiments")
    master = os.path.abspath(text)
    base = os.path.dirname(master)
    sweeps = [_experiment(data, i, e, base, master) for i, e in enumerate(experiments)]
    return HarvestResult(master, "dials-experiment-list", sweeps, [])

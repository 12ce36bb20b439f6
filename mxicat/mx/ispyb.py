"""ISPyB-style integration/scaling results → canonical per-shell metadata.

ISPyB stores one ``AutoProcScaling`` with exactly three ``AutoProcScalingStatistics`` (``overall``,
``innerShell``, ``outerShell``) and N ``AutoProcIntegration`` rows, each tied to its raw data collection by
``dataCollectionId`` (mx-metadata.md §10): this is how multi-sweep and multi-crystal merges are represented.
:func:`from_ispyb` accepts that shape as plain dicts, either flat::

    {"AutoProc": {"spaceGroup": "P 21 21 21", "refinedCell_a": 78.1, ...},
     "AutoProcProgram": {"processingPrograms": "xia2 dials", "processingPackageVersion": "3.8"},
     "AutoProcScalingStatistics": [{"scalingStatisticsType": "outerShell", "rMerge": 0.61, ...}, ...],
     "AutoProcIntegration": [{"dataCollectionId": 1066786, "startImageNumber": 1, ...}, ...]}

or nested as the xia2/EDNA "AutoProcContainer" (``AutoProcScalingContainer`` → ``AutoProcScalingStatistics`` +
``AutoProcIntegrationContainer`` → ``AutoProcIntegration``; ``AutoProcProgramContainer``), and statistics may
also be a mapping keyed by shell (``{"overall": {...}, "innerShell": {...}, "outerShell": {...}}``). The
DLS stored-procedure spellings (``res_lim_high``, ``mean_i_sig_i``...) are accepted too.

Names: ISPyB fields are translated to the ESRF ICAT names (``MXAutoprocIntegrationScaling_<shell>_<leaf>``,
``MXAutoprocIntegration_<leaf>``, mx-metadata.md §7.4), which the ontology resolves to canonical keys.
Units are not enforced by ISPyB and pipelines differ (EDNA writes R factors ×100): R factors and CC½ are
taken as fractions unless ``units`` says otherwise (``units={"rMerge": "percent"}``); completeness is percent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mxicat.errors import BadParameterError

__all__ = ["Integration", "IspybResult", "from_ispyb"]

_SCALING_PREFIX = "MXAutoprocIntegrationScaling_{shell}_"
_INTEGRATION_PREFIX = "MXAutoprocIntegration_"

#: ISPyB ``AutoProcScalingStatistics`` field → ESRF leaf (mx-metadata.md §7.4 / §10)
STATISTICS_FIELDS: dict[str, str] = {
    "resolutionLimitLow": "resolution_limit_low",
    "resolutionLimitHigh": "resolution_limit_high",
    "rMerge": "r_merge",
    "rMeasWithinIPlusIMinus": "r_meas_within_IPlus_IMinus",
    "rMeasAllIPlusIMinus": "r_meas_all_IPlus_IMinus",
    "rPimWithinIPlusIMinus": "r_pim_within_IPlus_IMinus",
    "rPimAllIPlusIMinus": "r_pim_all_IPlus_IMinus",
    "fractionalPartialBias": "fractional_partial_bias",
    "nTotalObservations": "n_total_observations",
    "nTotalUniqueObservations": "n_total_unique_observations",
    "meanIOverSigI": "mean_I_over_sigI",
    "completeness": "completeness",
    "multiplicity": "multiplicity",
    "anomalousCompleteness": "anomalous_completeness",
    "anomalousMultiplicity": "anomalous_multiplicity",
    "anomalous": "anomalous",
    "ccHalf": "cc_half",
    "ccAnomalous": "ccAno",
    "sigAno": "sigAno",
    "isa": "isa",
    "completenessSpherical": "completeness_spherical",
    "completenessEllipsoidal": "completeness_ellipsoidal",
    "anomalousCompletenessSpherical": "anomalous_completeness_spherical",
    "anomalousCompletenessEllipsoidal": "anomalous_completeness_ellipsoidal",
}

#: DLS ispyb-api stored-procedure keys (``_scaling_params``) → ISPyB field
STORED_PROCEDURE_FIELDS: dict[str, str] = {
    "res_lim_low": "resolutionLimitLow", "res_lim_high": "resolutionLimitHigh", "r_merge": "rMerge",
    "r_meas_within_iplusi_minus": "rMeasWithinIPlusIMinus", "r_meas_all_iplusi_minus": "rMeasAllIPlusIMinus",
    "r_pim_within_iplusi_minus": "rPimWithinIPlusIMinus", "r_pim_all_iplusi_minus": "rPimAllIPlusIMinus",
    "fract_partial_bias": "fractionalPartialBias", "n_tot_obs": "nTotalObservations",
    "n_tot_unique_obs": "nTotalUniqueObservations", "mean_i_sig_i": "meanIOverSigI",
    "completeness": "completeness", "multiplicity": "multiplicity", "anom": "anomalous",
    "anom_completeness": "anomalousCompleteness", "anom_multiplicity": "anomalousMultiplicity",
    "cc_half": "ccHalf", "cc_anom": "ccAnomalous",
}

#: ISPyB ``AutoProcIntegration`` / ``AutoProc`` field → ESRF leaf of ``MXAutoprocIntegration_``
INTEGRATION_FIELDS: dict[str, str] = {
    "startImageNumber": "start_image_number", "endImageNumber": "end_image_number",
    "refinedDetectorDistance": "detector_distance", "refinedXBeam": "beam_x", "refinedYBeam": "beam_y",
    "rotationAxisX": "rotation_axis_x", "rotationAxisY": "rotation_axis_y", "rotationAxisZ": "rotation_axis_z",
    "beamVectorX": "beam_vector_x", "beamVectorY": "beam_vector_y", "beamVectorZ": "beam_vector_z",
    "cell_a": "cell_a", "cell_b": "cell_b", "cell_c": "cell_c",
    "cell_alpha": "cell_alpha", "cell_beta": "cell_beta", "cell_gamma": "cell_gamma",
    "anomalous": "anomalous", "spaceGroup": "space_group",
    "refinedCell_a": "cell_a", "refinedCell_b": "cell_b", "refinedCell_c": "cell_c",
    "refinedCell_alpha": "cell_alpha", "refinedCell_beta": "cell_beta", "refinedCell_gamma": "cell_gamma",
}

#: ``scalingStatisticsType`` spellings → shell
SHELL_TYPES: dict[str, str] = {
    "overall": "overall", "innershell": "inner", "inner": "inner", "outershell": "outer", "outer": "outer",
}

#: dimensionless statistics stored as fractions in the ontology; read as fractions unless ``units`` says
_FRACTION_FIELDS = frozenset({"rMerge", "rMeasWithinIPlusIMinus", "rMeasAllIPlusIMinus", "rPimWithinIPlusIMinus",
                              "rPimAllIPlusIMinus", "ccHalf", "ccAnomalous"})
_PERCENT_FIELDS = frozenset({"completeness", "anomalousCompleteness", "completenessSpherical",
                             "completenessEllipsoidal", "anomalousCompletenessSpherical",
                             "anomalousCompletenessEllipsoidal"})


@dataclass
class Integration:
    """One ``AutoProcIntegration``: the raw collection it integrated and its refined values."""

    data_collection_id: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    unmapped: dict[str, Any] = field(default_factory=dict)


@dataclass
class IspybResult:
    """Canonical result of one ISPyB scaling.

    Attributes:
        metadata: canonical per-shell keys (``r_merge``, ``r_merge_inner``, ``r_merge_outer``...), plus
            space group and cell from ``AutoProc``.
        sources: canonical key → ISPyB field (``AutoProcScalingStatistics[outerShell].rMerge``).
        integrations: one per ``AutoProcIntegration``, with its ``dataCollectionId`` (the raw input).
        software: ``{"name", "version", "classification"}`` from ``AutoProcProgram``.
        unmapped: fields no ontology term claims (``<path>`` → value), kept rather than lost.
        warnings: one sentence per oddity.
    """

    metadata: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    integrations: list[Integration] = field(default_factory=list)
    software: list[dict[str, str | None]] = field(default_factory=list)
    unmapped: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def data_collection_ids(self) -> list[Any]:
        """The raw inputs, in integration order (duplicates dropped)."""
        return list(dict.fromkeys(i.data_collection_id for i in self.integrations
                                  if i.data_collection_id is not None))


def from_ispyb(integration_scaling: Mapping[str, Any], *, units: Mapping[str, str] | None = None,
               ontology: Any = None) -> IspybResult:
    """Translate an ISPyB-style integration/scaling dict into canonical metadata.

    Args:
        integration_scaling: the dict (shapes in the module docstring).
        units: unit per ISPyB field when the producer deviates (``{"rMerge": "percent"}``).
        ontology: the ontology; the packaged one when None.

    Raises:
        BadParameterError: not an ISPyB scaling (no statistics), an unknown shell type, a shell given twice,
            or a value its term rejects (the error names the field and value).
    """
    if not isinstance(integration_scaling, Mapping):
        raise BadParameterError(f"ISPyB scaling: expected a mapping, got {type(integration_scaling).__name__}")
    if ontology is None:
        from mxicat.ontology import load_ontology

        ontology = load_ontology()
    reader = _Reader(ontology, dict(units or {}))
    data = _unwrap(integration_scaling)
    reader.statistics(data.get("AutoProcScalingStatistics"))
    auto_proc = data.get("AutoProc") or {}
    reader.fields(auto_proc, "AutoProc", reader.result.metadata, reader.result.sources, overall=True)
    for index, row in enumerate(_as_list(data.get("AutoProcIntegration"))):
        reader.integration(row, index)
    reader.program(data.get("AutoProcProgram"))
    return reader.result


def _unwrap(data: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten the xia2/EDNA container nesting into the flat shape."""
    flat: dict[str, Any] = dict(data)
    container = flat.pop("AutoProcContainer", None)
    if isinstance(container, Mapping):
        flat.update(_unwrap(container))
    scaling = flat.pop("AutoProcScalingContainer", None)
    if isinstance(scaling, Mapping):
        flat.setdefault("AutoProcScaling", scaling.get("AutoProcScaling"))
        flat.setdefault("AutoProcScalingStatistics", scaling.get("AutoProcScalingStatistics"))
        integrations = [c.get("AutoProcIntegration") if isinstance(c, Mapping) and "AutoProcIntegration" in c else c
                        for c in _as_list(scaling.get("AutoProcIntegrationContainer"))]
        if integrations:
            flat.setdefault("AutoProcIntegration", integrations)
    program = flat.pop("AutoProcProgramContainer", None)
    if isinstance(program, Mapping):
        flat.setdefault("AutoProcProgram", program.get("AutoProcProgram"))
    scaling_row = flat.get("AutoProcScaling")
    if flat.get("AutoProcScalingStatistics") is None and isinstance(scaling_row, Mapping):
        flat["AutoProcScalingStatistics"] = scaling_row.get("AutoProcScalingStatistics") or {
            k: v for k, v in scaling_row.items() if k.casefold() in SHELL_TYPES}
    return flat


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return list(value)
    raise BadParameterError(f"ISPyB scaling: expected a list of rows, got {value!r}")


class _Reader:
    def __init__(self, ontology: Any, units: dict[str, str]) -> None:
        self.ont, self.units = ontology, units
        self.result = IspybResult()

    def statistics(self, stats: Any) -> None:
        if isinstance(stats, Mapping) and "scalingStatisticsType" not in stats:
            rows = [{**(row or {}), "scalingStatisticsType": kind} for kind, row in stats.items()]
        else:
            rows = _as_list(stats)
        if not rows:
            raise BadParameterError("ISPyB scaling: no AutoProcScalingStatistics (overall/innerShell/outerShell)")
        seen: set[str] = set()
        for row in rows:
            kind = str(row.get("scalingStatisticsType", row.get("type", ""))).strip()
            shell = SHELL_TYPES.get(kind.casefold())
            if shell is None:
                raise BadParameterError(f"ISPyB scaling: unknown scalingStatisticsType {kind!r} "
                                        "(expected overall, innerShell or outerShell)")
            if shell in seen:
                raise BadParameterError(f"ISPyB scaling: two {kind} statistics rows")
            seen.add(shell)
            fields = {STORED_PROCEDURE_FIELDS.get(k, k): v for k, v in row.items()
                      if k not in ("scalingStatisticsType", "type", "comments")}
            for name, value in fields.items():
                if value is None or value == "":
                    continue
                leaf = STATISTICS_FIELDS.get(name)
                where = f"AutoProcScalingStatistics[{kind}].{name}"
                resolved = self.ont.resolve(_SCALING_PREFIX.format(shell=shell) + leaf) if leaf else None
                if resolved is None:
                    self.result.unmapped[where] = value
                    continue
                self.put(self.result.metadata, self.result.sources, resolved, name, value, where)
        missing = {"overall", "inner", "outer"} - seen
        if missing:
            self.result.warnings.append(f"ISPyB scaling without {', '.join(sorted(missing))} statistics "
                                        "(ISPyB requires all three)")

    def fields(self, row: Mapping[str, Any], where: str, target: dict[str, Any], sources: dict[str, str],
               *, overall: bool = False, unmapped: dict[str, Any] | None = None) -> None:
        for name, value in row.items():
            if value is None or value == "" or name == "dataCollectionId":
                continue
            leaf = INTEGRATION_FIELDS.get(name)
            resolved = self.ont.resolve(_INTEGRATION_PREFIX + leaf) if leaf else None
            if resolved is None and leaf:
                resolved = self.ont.resolve(leaf)
            if resolved is None:
                if not name.endswith(("Id", "TimeStamp")):
                    (self.result.unmapped if unmapped is None else unmapped)[f"{where}.{name}"] = value
                continue
            self.put(target, sources, resolved, name, value, f"{where}.{name}")

    def put(self, target: dict[str, Any], sources: dict[str, str], resolved: Any, name: str, value: Any,
            where: str) -> None:
        unit = self.units.get(name)
        if unit is None and resolved.term.numeric:
            unit = "percent" if name in _PERCENT_FIELDS and resolved.term.unit else (
                "" if name in _FRACTION_FIELDS else None)
        try:
            converted = self.ont.convert(resolved.term, value, unit)
        except BadParameterError as err:
            raise BadParameterError(f"ISPyB scaling: {where} = {value!r}: {err}") from err
        if resolved.key in target and target[resolved.key] != converted:
            self.result.warnings.append(f"{where} = {value!r} differs from {sources[resolved.key]}; kept the first")
            return
        target.setdefault(resolved.key, converted)
        sources.setdefault(resolved.key, where)

    def integration(self, row: Any, index: int) -> None:
        if not isinstance(row, Mapping):
            raise BadParameterError(f"ISPyB scaling: AutoProcIntegration[{index}] is not a mapping")
        collection = row.get("dataCollectionId")
        if collection is None:
            self.result.warnings.append(f"AutoProcIntegration[{index}] has no dataCollectionId")
        integration = Integration(data_collection_id=collection)
        self.fields(row, f"AutoProcIntegration[{index}]", integration.metadata, {}, unmapped=integration.unmapped)
        self.result.integrations.append(integration)

    def program(self, program: Any) -> None:
        if not isinstance(program, Mapping):
            return
        names = str(program.get("processingPrograms") or program.get("programs") or "").strip()
        version = program.get("processingPackageVersion") or program.get("version")
        if names:
            self.result.software.append({"name": names, "version": str(version) if version else None,
                                         "classification": "data processing"})
        software = self.ont.resolve("software")
        if names and software is not None:
            text = f"{names} {version}" if version else names
            self.result.metadata.setdefault(software.key, text)
            self.result.sources.setdefault(software.key, "AutoProcProgram.processingPrograms")

"""Register many datasets with one catalogue transaction for the new ones (the ingester's fast path).

The result is the one the same specs registered one by one with
:func:`~mxicat.mx.collections.write_dataset` would give, in the same order:

* one search per investigation finds which (investigation, name) already exist; the new ones are created
  together in one ``createMany`` (all or nothing);
* an existing dataset, and a second spec for a name already in the batch, is then re-registered one by one
  with the usual merge policy (``unchanged`` when nothing differs), after the batch committed;
* a spec that cannot be prepared (a ParameterType or Sample it cannot get) fails alone; when the batch write
  itself fails with a permanent error, the samples it created are removed and every spec of the batch is
  written one by one, so the error lands on the spec that caused it and the others are registered.

:class:`~mxicat.errors.UnavailableError` is never caught: the caller retries the whole batch, which is
idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mxicat.errors import InternalError, MxicatError, UnavailableError
from mxicat.mx import jpql
from mxicat.mx.collections import (
    DatasetSpec,
    Registration,
    _existing,
    _parameter_fields,
    _sample_id,
    _update,
    created_registration,
    new_dataset,
    write_dataset,
)

if TYPE_CHECKING:
    from mxicat.mx.facade import MxCatalogue

logger = logging.getLogger(__name__)

Outcome = Registration | MxicatError


def existing_names(mx: MxCatalogue, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
    """Which (investigation id, dataset name) pairs name a dataset visible to the session user."""
    by_investigation: dict[int, list[str]] = {}
    for investigation_id, name in dict.fromkeys(keys):
        by_investigation.setdefault(investigation_id, []).append(name)
    found: set[tuple[int, str]] = set()
    for investigation_id, names in by_investigation.items():
        for chunk in jpql.chunks(names, 500):
            for name in mx.session.search(
                f"SELECT ds.name FROM Dataset ds WHERE ds.investigation.id = {int(investigation_id)} "
                f"AND ds.name IN {jpql.strings(chunk)}"
            ):
                found.add((investigation_id, str(name)))
    return found


def _one(mx: MxCatalogue, spec: DatasetSpec) -> Outcome:
    try:
        return write_dataset(mx, spec)
    except UnavailableError:
        raise
    except MxicatError as err:
        return err


def write_datasets(mx: MxCatalogue, specs: Sequence[DatasetSpec | MxicatError]) -> list[Outcome]:
    """Register ``specs`` (an error in place of a spec is passed through); one outcome per entry."""
    results: list[Outcome | None] = [s if isinstance(s, MxicatError) else None for s in specs]
    existing = existing_names(mx, [(s.investigation_id, s.name) for s in specs if isinstance(s, DatasetSpec)])
    fresh: list[tuple[int, DatasetSpec, dict[str, Any]]] = []
    later: list[int] = []  # existing datasets, and names already in this batch: one by one, after it
    taken: set[tuple[int, str]] = set()
    created_samples: list[tuple[tuple[int, str], int]] = []
    for index, spec in enumerate(specs):
        if isinstance(spec, MxicatError):
            continue
        key = (spec.investigation_id, spec.name)
        if key in existing or key in taken:
            later.append(index)
            continue
        try:
            params = _parameter_fields(mx, spec)
            sample_id = None
            if spec.sample:
                sample_id, created = _sample_id(mx, spec.investigation_id, spec.sample)
                if created:
                    created_samples.append(((spec.investigation_id, spec.sample), sample_id))
        except UnavailableError:
            raise
        except MxicatError as err:
            results[index] = err
            continue
        taken.add(key)
        fresh.append((index, spec, new_dataset(mx, spec, params, sample_id)))
    if fresh:
        try:
            ids = mx.session.create_many([{"Dataset": new} for _, _, new in fresh])
        except UnavailableError:
            _drop_samples(mx, created_samples)
            raise
        except MxicatError as err:
            logger.info("batch of %d datasets refused (%s): registering them one by one", len(fresh), err)
            _drop_samples(mx, created_samples)
            later = sorted(later + [index for index, _, _ in fresh])
        else:
            for (index, spec, _), dataset_id in zip(fresh, ids, strict=True):
                results[index] = created_registration(mx, spec, dataset_id)
    for index in later:
        spec = specs[index]
        assert isinstance(spec, DatasetSpec)
        results[index] = _again(mx, spec) if (spec.investigation_id, spec.name) in existing else _one(mx, spec)
    done = [r for r in results if r is not None]
    if len(done) != len(specs):  # pragma: no cover - every index is settled above
        raise InternalError("batch registration lost track of a dataset")
    return done


def _again(mx: MxCatalogue, spec: DatasetSpec) -> Outcome:
    """Re-register a dataset known to exist (as write_dataset does after its create is refused)."""
    try:
        current = _existing(mx, spec)
        if current is None:  # deleted meanwhile
            return write_dataset(mx, spec)
        return _update(mx, spec, current, _parameter_fields(mx, spec))
    except UnavailableError:
        raise
    except MxicatError as err:
        return err


def _drop_samples(mx: MxCatalogue, created: list[tuple[tuple[int, str], int]]) -> None:
    """Remove the samples this batch created for datasets it did not write (nothing half-written)."""
    if not created:
        return
    for key, _ in created:
        mx.registry.samples.pop(key, None)
    mx.session.delete([{"Sample": {"id": sample_id}} for _, sample_id in created])

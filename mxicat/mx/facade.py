"""``MxCatalogue``: the MX/SSX API users call, over any :class:`~mxicat.catalogue.base.Catalogue` session.

It never touches tables: every read is ICAT JPQL through ``session.search``/``get``, every write is ICAT
entities through ``create``/``create_many``/``write``/``delete``. The same object therefore works on the
embedded SQLite catalogue and on a real ICAT over REST, and every read is permission-filtered by the
catalogue for the session's user.

Example::

    from mxicat.mx import open_catalogue
    with open_catalogue("sqlite:///mx.db", credentials={"plugin": "simple", "username": "root",
                                                       "password": "secret"}) as cat:
        cat.register_nexus("/data/mx2532/Therm_6_2.nxs", investigation="mx2532", beamline="i04")
        page = cat.search_datasets('wavelength < 1 angstrom and beamline = i04')
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from mxicat.catalogue.base import Catalogue
from mxicat.errors import (
    BadParameterError,
    InsufficientPrivilegesError,
    MxicatError,
    NoSuchObjectFoundError,
    NotImplementedYetError,
)
from mxicat.mx import collections as _collections
from mxicat.mx.collections import Registration
from mxicat.mx.facility import PROCESSED_TYPE, RAW_TYPE, Registry, entity
from mxicat.mx.params import INTERNAL_TYPES, ParameterTypes, SyncReport, term_definitions
from mxicat.ontology import Ontology, load_ontology
from mxicat.ontology.terms import Resolved

logger = logging.getLogger(__name__)

DatasetRef = int | str


class MxCatalogue:
    """High-level MX catalogue over one catalogue session (embedded or remote ICAT).

    Args:
        session: a logged-in :class:`~mxicat.catalogue.base.Catalogue`.
        ontology: the term set (default: the packaged ontology).
        facility: facility name; default the only facility of the catalogue (created if none).
        raw_type / processed_type: ICAT DatasetType names of raw and processed datasets.
    """

    def __init__(
        self,
        session: Catalogue,
        *,
        ontology: Ontology | None = None,
        facility: str | None = None,
        raw_type: str = RAW_TYPE,
        processed_type: str = PROCESSED_TYPE,
    ) -> None:
        self.session = session
        self._ontology = ontology
        self._terms: dict[str, tuple[Resolved, dict[str, Any]]] = {}
        self.registry = Registry(session, facility)
        self.parameter_types = ParameterTypes(session, self.registry)
        self.raw_type = raw_type
        self.processed_type = processed_type

    # -- plumbing --------------------------------------------------------------------------------
    def __enter__(self) -> MxCatalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying session's connections."""
        self.session.close()

    def __repr__(self) -> str:
        return f"MxCatalogue({self.session.kind}, user={self.session.user_name!r})"

    @property
    def ontology(self) -> Ontology:
        """The term set (the packaged ontology is loaded on first use: opening stays fast)."""
        if self._ontology is None:
            self._ontology = load_ontology()
        return self._ontology

    @property
    def kind(self) -> str:
        """``"embedded"`` or ``"icat"``."""
        return self.session.kind

    @cached_property
    def term_definitions(self) -> dict[str, dict[str, Any]]:
        """ParameterType definitions of the ontology by ICAT name."""
        return term_definitions(self.ontology)

    def term_of(self, key: str) -> tuple[Resolved, dict[str, Any]] | None:
        """(ontology term, ParameterType definition) of a metadata key; None when the ontology does not know it.

        Known keys are cached: every registration maps its ~40 keys this way.
        """
        found = self._terms.get(key)
        if found is None:
            resolved = self.ontology.resolve(key)
            if resolved is None:
                return None
            found = self._terms[key] = (resolved, self.term_definitions[resolved.icat_name])
        return found

    internal_names = frozenset(INTERNAL_TYPES)

    def internal_definition(self, name: str) -> dict[str, Any]:
        """ParameterType definition of one of the MX layer's own types."""
        units, value_type, applicable, description = INTERNAL_TYPES[name]
        return {
            "name": name,
            "units": units,
            "valueType": value_type,
            "description": description,
            "verified": True,
            f"applicableTo{applicable}": True,
        }

    # -- facility --------------------------------------------------------------------------------
    def sync_parameter_types(self) -> SyncReport:
        """Create the ontology's ParameterTypes that are missing; report drift (idempotent)."""
        return self.parameter_types.sync(self.term_definitions.values())

    def bootstrap(self, *, beamlines: Sequence[str] = (), techniques: Sequence[str] = ("MX", "SSX")) -> SyncReport:
        """Create the static objects registrations need (for accounts that may not create them).

        ParameterTypes of the ontology and of the MX layer's bookkeeping, the raw/processed DatasetTypes,
        the techniques and the beamlines' Instruments. Run once by an administrator on a real ICAT, where
        ingest accounts usually cannot create reference data. Idempotent.
        """
        from mxicat.mx.collections import TECHNIQUE_PIDS

        report = self.sync_parameter_types()
        self.parameter_types.ensure(self.internal_definition(n) for n in sorted(INTERNAL_TYPES))
        self.registry.dataset_type(self.raw_type)
        self.registry.dataset_type(self.processed_type)
        for name in techniques:
            self.registry.technique(name, TECHNIQUE_PIDS.get(name.upper()))
        for beamline in beamlines:
            self.registry.instrument(beamline)
        return report

    def investigation(
        self, reference: str | int, *, beamline: str | None = None, when: datetime | None = None
    ) -> dict[str, Any]:
        """The investigation an id, name, ``name/visitId``, proposal (``mx2532``) or visit refers to."""
        return self.registry.investigation(reference, beamline=beamline, when=when)

    def ensure_investigation(
        self,
        reference: str | int,
        *,
        beamline: str | None = None,
        when: datetime | None = None,
        create: bool | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """The investigation, created when missing and allowed.

        ``create=None`` (default) creates it (with a warning; the session user becomes its principal
        experimenter when a User entity exists): on the embedded catalogue always (as its administrator),
        on a remote ICAT only when the user may create investigations there (ICAT's rules decide; a
        refusal becomes a clear "not found, may not create" error). ``create=False`` never creates.

        Raises:
            NoSuchObjectFoundError: missing and not created.
        """
        try:
            return self.registry.investigation(reference, beamline=beamline, when=when)
        except NoSuchObjectFoundError:
            if create is False or isinstance(reference, int) or str(reference).strip().isdecimal():
                raise
        name, _, visit = str(reference).strip().partition("/")
        new = {
            "Investigation": {
                "name": name,
                "visitId": visit or "1",
                "title": title or name,
                "facility": {"id": self.registry.facility_id},
            }
        }
        refused = NoSuchObjectFoundError(
            f"investigation {reference!r} not found on the {self.kind} catalogue, and user "
            f"{self.session.user_name} may not create it"
        )
        if create is None and self.kind != "embedded" and self._may_create(new) is False:
            raise refused
        try:
            created = self.registry.create_investigation(
                name, visit_id=visit or "1", title=title, beamline=beamline, user_name=self.session.user_name
            )
        except InsufficientPrivilegesError as err:
            raise refused from err
        warnings.warn(
            f"investigation {name}/{visit or '1'} did not exist: created it for {self.session.user_name}",
            UserWarning,
            stacklevel=2,
        )
        return created

    def _may_create(self, obj: dict[str, Any]) -> bool | None:
        """Whether the catalogue says this user may create ``obj``; None when it cannot tell (REST)."""
        try:
            return bool(self.session.is_access_allowed(obj, "CREATE"))
        except NotImplementedYetError:
            return None
        except MxicatError:
            return False

    def _investigation_id(
        self, investigation: str | int | Mapping[str, Any], *, beamline: str | None = None, when: datetime | None = None
    ) -> int:
        if isinstance(investigation, Mapping):
            return int(entity(dict(investigation))["id"])
        return int(self.registry.investigation(investigation, beamline=beamline, when=when)["id"])

    # -- registration ----------------------------------------------------------------------------
    def register_collection(
        self,
        investigation: str | int | Mapping[str, Any],
        name: str,
        metadata: Mapping[str, Any],
        *,
        beamline: str | None = None,
        sample: str | None = None,
        location: str | os.PathLike[str] | None = None,
        datafiles: Sequence[Mapping[str, Any] | str | os.PathLike[str]] = (),
        start: datetime | None = None,
        end: datetime | None = None,
        technique: str | None = None,
        complete: bool | None = None,
        description: str | None = None,
        units: Mapping[str, str] | None = None,
    ) -> Registration:
        """Register (or re-register) one raw data collection.

        ``metadata`` keys may be canonical keys, ICAT/ESRF names or aliases; values are converted to
        canonical units. The sample comes from ``sample`` or the ``sample_name`` value, the beamline from
        ``beamline`` or the ``beamline`` value. Unknown keys are stored unverified and listed in the
        result. Idempotent on (investigation, name): see :mod:`mxicat.mx.collections` for the policy.
        """
        spec = self.collection_spec(
            investigation,
            name,
            metadata,
            beamline=beamline,
            sample=sample,
            location=location,
            datafiles=datafiles,
            start=start,
            end=end,
            technique=technique,
            complete=complete,
            description=description,
            units=units,
        )
        return _collections.write_dataset(self, spec)

    def collection_spec(
        self,
        investigation: str | int | Mapping[str, Any],
        name: str,
        metadata: Mapping[str, Any],
        *,
        start: datetime | None = None,
        beamline: str | None = None,
        **kwargs: Any,
    ) -> _collections.DatasetSpec:
        """What :meth:`register_collection` would write (validated and mapped), without writing it."""
        iid = self._investigation_id(investigation, beamline=beamline, when=start)
        return _collections.build_collection_spec(self, iid, name, metadata, beamline=beamline, start=start, **kwargs)

    def register_nexus(
        self,
        path: str | os.PathLike[str],
        investigation: str | int | Mapping[str, Any],
        *,
        beamline: str | None = None,
        sample: str | None = None,
        name: str | None = None,
        technique: str | None = None,
    ) -> list[Registration]:
        """Harvest an NXmx file and register one raw dataset per sweep.

        Dataset names: ``name`` (or the file stem), with ``_<entry>`` appended when the file holds
        several sweeps. Location is the file's directory; the master and its data files are Datafiles.
        """
        from mxicat.harvest import harvest_nexus

        result = harvest_nexus(Path(path))
        if not result.sweeps:
            raise BadParameterError(f"{path}: no sweep found in the file")
        base = name or Path(path).stem
        out: list[Registration] = []
        for index, sweep in enumerate(result.sweeps, start=1):
            dataset_name = base
            if len(result.sweeps) > 1:
                suffix = sweep.entry.strip("/").replace("/", "_") or f"sweep{index}"
                dataset_name = f"{base}_{suffix}"
            metadata = dict(sweep.metadata)
            files: list[Mapping[str, Any]] = [dict(d) for d in sweep.datafiles]
            files = files or [{"path": os.fspath(path), "exists": True}]
            registration = self.register_collection(
                investigation,
                dataset_name,
                metadata,
                beamline=beamline,
                sample=sample,
                location=Path(path).resolve().parent,
                datafiles=files,
                technique=technique,
            )
            registration.warnings.extend(result.warnings + sweep.warnings)
            out.append(registration)
        return out

    def register_processed(
        self,
        name: str,
        *,
        inputs: Sequence[DatasetRef],
        investigation: str | int | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Registration:
        """Register a processed dataset with its provenance (see :func:`mxicat.mx.processed.register`)."""
        from mxicat.mx.processed import register_processed

        return register_processed(self, name, inputs=inputs, investigation=investigation, **kwargs)

    def group(
        self,
        name: str,
        datasets: Sequence[DatasetRef],
        *,
        kind: str = "merge",
        parameters: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Group datasets into a named DataCollection (see :func:`mxicat.mx.groups.group`)."""
        from mxicat.mx.groups import group

        return group(self, name, datasets, kind=kind, parameters=parameters)

    def groups(self, dataset: DatasetRef | None = None) -> list[dict[str, Any]]:
        """Visible groups (of one dataset when given)."""
        from mxicat.mx.groups import list_groups

        return list_groups(self, None if dataset is None else self.dataset_id(dataset))

    # -- reading ---------------------------------------------------------------------------------
    def dataset_id(self, ref: DatasetRef, *, investigation: str | int | None = None) -> int:
        """Id of a dataset given by id, name (unique among visible datasets) or location path."""
        from mxicat.mx.detail import resolve_datasets

        return resolve_datasets(self, [ref], investigation=investigation)[0]

    def search_datasets(
        self, filter: str | None = None, *, order: str = "id", limit: int = 100, cursor: str | None = None
    ) -> Any:
        """Datasets matching a filter, one page (see :mod:`mxicat.mx.search`)."""
        from mxicat.mx.search import search_datasets

        return search_datasets(self, filter, order=order, limit=limit, cursor=cursor)

    def count_datasets(self, filter: str | None = None) -> int:
        """Number of visible datasets matching a filter."""
        from mxicat.mx.search import count_datasets

        return count_datasets(self, filter)

    def dataset(self, ref: DatasetRef) -> dict[str, Any]:
        """One dataset in canonical names and units, with provenance graph and groups."""
        from mxicat.mx.detail import dataset_detail

        return dataset_detail(self, self.dataset_id(ref))

    def export_mmcif(self, ref: DatasetRef | Mapping[str, Any], *, group: bool = False) -> str:
        """PDB-deposition mmCIF text for a dataset, or a group (``group=True`` or a group mapping)."""
        from mxicat.mx.detail import export_mmcif

        return export_mmcif(self, ref, group=group)

    # -- pyicat-plus compatibility ---------------------------------------------------------------
    def store_dataset(
        self, beamline: str, proposal: str, dataset: str, path: str, metadata: Mapping[str, Any], **kwargs: Any
    ) -> Registration:
        """pyicat-plus ``IcatClient.store_dataset`` call shape (see :mod:`mxicat.mx.pyicat_compat`)."""
        from mxicat.mx.pyicat_compat import store_dataset

        return store_dataset(self, beamline, proposal, dataset, path, metadata, **kwargs)

    def store_datasets(self, calls: Sequence[Mapping[str, Any]]) -> list[Registration | MxicatError]:
        """Many :meth:`store_dataset` calls (keyword arguments each) with one transaction for the new
        datasets; one registration or permanent error per call (see :mod:`mxicat.mx.batch`)."""
        from mxicat.mx.pyicat_compat import store_datasets

        return store_datasets(self, calls)

    def store_processed_data(
        self,
        beamline: str,
        proposal: str,
        dataset: str,
        path: str,
        metadata: Mapping[str, Any],
        raw: Sequence[str] = (),
        **kwargs: Any,
    ) -> Registration:
        """pyicat-plus ``IcatClient.store_processed_data`` call shape."""
        from mxicat.mx.pyicat_compat import store_processed_data

        return store_processed_data(self, beamline, proposal, dataset, path, metadata, raw=raw, **kwargs)


def open_catalogue(
    url: str | None = None,
    *,
    credentials: Mapping[str, Any] | None = None,
    ontology: Ontology | None = None,
    facility: str | None = None,
    **options: Any,
) -> MxCatalogue:
    """Open a catalogue (``sqlite:///file.db`` embedded, ``icat+https://host`` remote) as an MxCatalogue.

    ``credentials`` is ``{"plugin": ..., "username": ..., "password": ...}``; ``options`` go to
    :func:`mxicat.catalogue.open.open_catalogue` (``settings``, ``memory``, ``verify``, ``cert``,
    ``timeout``). Without a URL the configured catalogue (``MXICAT_CATALOGUE``) is used.
    """
    from mxicat.catalogue.open import open_catalogue as open_session

    session = open_session(url, credentials=dict(credentials) if credentials else None, **options)
    return MxCatalogue(session, ontology=ontology, facility=facility)

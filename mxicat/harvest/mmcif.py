"""Import processing results (and the data-collection description) from PDBx/mmCIF files with gemmi.

One :class:`ProcessedResult` per data block. What an item *means* comes from the ontology: every term lists
its PDBx items (``Term.mmcif``) and :meth:`Ontology.by_mmcif` answers "which term is this item". Values are
converted from the item's PDBx unit (:mod:`mxicat.harvest.mmcif_items`) to the term's canonical unit through
the ontology, so percent (``percent_possible_obs``) and fractions (R factors) are each handled explicitly.

Rules taken from the standard and from real files (standards.md §2, testdata README §3):

* ``?`` (unknown) and ``.`` (not applicable) are absent values;
* ``_reflns`` may have several rows (``pdbx_ordinal``); the lowest ordinal is the overall statistics and
  the shells of the same ``pdbx_diffrn_id`` go with it;
* ``_reflns_shell`` row order is not defined: the **outer** shell is the row with the smallest
  ``d_res_high``, the **inner** shell the row with the largest; a single row is taken as the outer shell, and
  a row whose ``d_res_low`` is under half the overall low-resolution limit is not an inner shell (joint
  X-ray/neutron entries such as 7JUN list another data set's outer shell under the same ``pdbx_diffrn_id``);
* ``_diffrn_source.pdbx_wavelength_list`` may hold a range (``2.0-4.0``, Laue/neutron): read as its two limits;
* ``_exptl_crystal_grow`` and ``_refine`` (PDB entries, refinement output) are read for the items the ontology
  claims only (the row of the statistics' ``pdbx_diffrn_id``, else the first); a bad value there is a warning;
* several ``_diffrn`` rows (one merged data set from several collections) give one entry per collection in
  :attr:`ProcessedResult.collections`; :attr:`ProcessedResult.metadata` holds the collection the
  ``_reflns`` row points to (``pdbx_diffrn_id``) and a warning says which values differ;
* DIALS ``mmcif.pdb_version=v5_next`` merge statistics (``_pdbx_diffrn_merge_stat[_shell]``,
  ``_pdbx_diffrn_merged_cell``, ``_pdbx_diffrn_symmetry``) fill what ``_reflns``/``_cell``/``_symmetry`` lack.

This module holds the public functions; the work is done by :mod:`mxicat.harvest.mmcif_block` (one data block:
statistics, results, software) and :mod:`mxicat.harvest.mmcif_collections` (``_diffrn*`` data collections), on
the rows of :mod:`mxicat.harvest.mmcif_rows`; :mod:`mxicat.harvest.mmcif_result` holds the result and error
types re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mxicat.harvest.mmcif_block import BlockReader
from mxicat.harvest.mmcif_result import MmcifError, ProcessedResult

if TYPE_CHECKING:
    import gemmi

__all__ = ["MmcifError", "ProcessedResult", "import_mmcif", "import_mmcif_blocks"]


def import_mmcif(
    path_or_text: str | os.PathLike[str], *, block: str | None = None, ontology: Any = None
) -> ProcessedResult:
    """Import one data block of an mmCIF file (or mmCIF text).

    Args:
        path_or_text: a file path (``.cif``, ``.cif.gz``) or the mmCIF text itself.
        block: name of the block to read; needed only when several blocks hold results.
        ontology: an :class:`mxicat.ontology.Ontology`; the packaged one when None.

    Raises:
        MmcifError: unreadable file, no such block, several candidate blocks, or an invalid value.
    """
    results = import_mmcif_blocks(path_or_text, ontology=ontology)
    if block is not None:
        for result in results:
            if result.block == block:
                return result
        raise MmcifError(
            f"no data block {block!r} (blocks: {', '.join(r.block for r in results)})",
            path=results[0].path if results else None,
        )
    if len(results) == 1:
        return results[0]
    with_stats = [
        r for r in results if any(s.startswith(("_reflns", "_pdbx_diffrn_merge_stat")) for s in r.sources.values())
    ]
    if len(with_stats) == 1:
        return with_stats[0]
    raise MmcifError(
        f"{len(results)} data blocks ({', '.join(r.block for r in results)}); pass block= or use import_mmcif_blocks()",
        path=results[0].path,
    )


def import_mmcif_blocks(path_or_text: str | os.PathLike[str], *, ontology: Any = None) -> list[ProcessedResult]:
    """Import every data block that holds PDBx data-collection or processing categories.

    Raises:
        MmcifError: the file cannot be read or parsed, holds no such block, or has an invalid value.
    """
    doc, path = _read(path_or_text)
    ont = ontology if ontology is not None else _default_ontology()
    read = [BlockReader(b, ont, path).read() for b in doc if _is_data_block(b)]
    results = [r for r in read if r is not None]
    if not results:
        raise MmcifError("no PDBx data-collection or processing categories found", path=path)
    return results


def _default_ontology() -> Any:
    from mxicat.ontology import load_ontology

    return load_ontology()


def _read(path_or_text: str | os.PathLike[str]) -> tuple[gemmi.cif.Document, str | None]:
    import gemmi

    is_text = isinstance(path_or_text, str) and ("\n" in path_or_text or path_or_text.lstrip().startswith("data_"))
    path = None if is_text else str(Path(path_or_text))
    try:
        doc = gemmi.cif.read_string(str(path_or_text)) if path is None else gemmi.cif.read(path)
    except (OSError, RuntimeError, ValueError) as err:
        raise MmcifError(f"cannot read mmCIF: {err}", path=path) from err
    if len(doc) == 0:
        raise MmcifError("no data block", path=path)
    return doc, path


def _is_data_block(block: gemmi.cif.Block) -> bool:
    return not block.name.startswith("mmcif_") and block.find_value("_dictionary.title") is None

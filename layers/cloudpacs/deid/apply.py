"""The entry points: one dataset in, its de-identified copy out.

``deidentify`` never changes its argument and never returns an instance that it could not
de-identify: a burned-in annotation risk raises
:class:`~cloudpacs.deid.errors.QuarantinedInstance` (see :mod:`.quarantine`).
"""

from __future__ import annotations

import copy

from pydicom.dataset import Dataset

from cloudpacs.deid import table
from cloudpacs.deid.engine import Deidentifier, Scope
from cloudpacs.deid.method import mark, replace_file_meta
from cloudpacs.deid.profile import Profile
from cloudpacs.deid.pseudonym import Pseudonymizer
from cloudpacs.deid.quarantine import check_pixels


def deidentify_in_place(ds: Dataset, profile: Profile, secret: bytes) -> Dataset:
    """De-identify ``ds`` itself (for a dataset the caller owns, e.g. just parsed)."""
    names = Pseudonymizer(secret)
    check_pixels(ds)
    tables = table.load()
    engine = Deidentifier(profile, names, tables, ds)
    meta = getattr(ds, "file_meta", None)
    media_uid = str(meta.get("MediaStorageSOPInstanceUID", "")) if meta is not None else ""
    engine.dataset(ds, Scope())
    mark(ds, profile, tables.edition)
    if "SOPInstanceUID" in ds:
        media_uid = str(ds.SOPInstanceUID)
    elif media_uid and not profile.retain_uids:
        media_uid = engine.uid(media_uid)
    replace_file_meta(ds, media_uid)
    return ds


def deidentify(dataset: Dataset, profile: Profile, secret: bytes) -> Dataset:
    """Return a de-identified copy of ``dataset`` under ``profile``, keyed by ``secret``.

    Same dataset, profile and secret give the same output; a different secret gives
    unrelated UIDs, patient pseudonyms and date offsets.
    """
    return deidentify_in_place(copy.deepcopy(dataset), profile, secret)

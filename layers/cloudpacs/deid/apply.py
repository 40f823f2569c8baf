"""The entry points: one dataset in, its de-identified copy out.

``deidentify`` never changes its argument and never returns an instance that it could not
de-identify: a burned-in annotation risk raises
:class:`~cloudpacs.deid.errors.QuarantinedInstance` (see :mod:`.quarantine`), unless the
Clean Pixel Data Option cleans it (:mod:`.pixel_clean`).
"""

from __future__ import annotations

import copy

from pydicom.dataset import Dataset

from cloudpacs.deid import pixel_clean, table
from cloudpacs.deid.engine import Deidentifier, Scope
from cloudpacs.deid.method import mark, replace_file_meta
from cloudpacs.deid.pixel_clean import CleanedPixels, PixelCleaning
from cloudpacs.deid.profile import Profile
from cloudpacs.deid.pseudonym import Pseudonymizer


def deidentify_in_place(
    ds: Dataset, profile: Profile, secret: bytes, pixels: PixelCleaning | None = None
) -> Dataset:
    """De-identify ``ds`` itself (for a dataset the caller owns, e.g. just parsed).

    ``pixels``: the rules (and text detector) of the Clean Pixel Data Option; the packaged
    default rules when the profile has the Option on and none are given.
    """
    deidentify_reporting(ds, profile, secret, pixels)
    return ds


def deidentify_reporting(
    ds: Dataset, profile: Profile, secret: bytes, pixels: PixelCleaning | None = None
) -> CleanedPixels | None:
    """``deidentify_in_place``, returning what Clean Pixel Data did (None: pixels kept)."""
    names = Pseudonymizer(secret)
    rule = pixel_clean.plan(ds, profile, pixels)
    detector = pixels.detector if pixels is not None else None
    cleaned = pixel_clean.clean(ds, rule, detector) if rule is not None else None
    tables = table.load()
    engine = Deidentifier(profile, names, tables, ds)
    meta = getattr(ds, "file_meta", None)
    media_uid = str(meta.get("MediaStorageSOPInstanceUID", "")) if meta is not None else ""
    engine.dataset(ds, Scope())
    mark(ds, profile, tables.edition, cleaned)
    if "SOPInstanceUID" in ds:
        media_uid = str(ds.SOPInstanceUID)
    elif media_uid and not profile.retain_uids:
        media_uid = engine.uid(media_uid)
    replace_file_meta(ds, media_uid)
    return cleaned


def deidentify(
    dataset: Dataset, profile: Profile, secret: bytes, pixels: PixelCleaning | None = None
) -> Dataset:
    """Return a de-identified copy of ``dataset`` under ``profile``, keyed by ``secret``.

    Same dataset, profile and secret give the same output; a different secret gives
    unrelated UIDs, patient pseudonyms and date offsets.
    """
    return deidentify_in_place(copy.deepcopy(dataset), profile, secret, pixels)

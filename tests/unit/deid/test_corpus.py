"""Every preset over every corpus file (see conftest for the selection rule).

PS3.15 E.1.1: a de-identifier "shall protect or retain all instances of the Attributes
listed in Table E.1-1, whether contained in the main dataset or embedded in an Item of a
Sequence of Items". The scan checks the result at the byte level: no value of an attribute
the profile removes or replaces may appear anywhere in the output file (phi_scan states the
one rule for legitimate matches).
"""

from __future__ import annotations

import pytest

from cloudpacs.deid import (
    DeidentificationError,
    NotPart10,
    Profile,
    QuarantinedInstance,
    UnencodableInstance,
    deidentify_bytes,
)
from cloudpacs.deid import part10 as part10_module

from .conftest import PRESETS, SECRET, CorpusFile, corpus_paths, parse
from .phi_scan import leaked_values


def test_corpus_is_the_whole_shipped_set(corpus: list[CorpusFile]) -> None:
    assert len(corpus) >= 100
    assert any("PixelData" not in f.dataset for f in corpus)  # SR, RT Plan: no pixels
    assert any(f.quarantine_rule for f in corpus)


def test_files_that_are_not_stored_instances_are_refused(rejected_paths: list) -> None:
    assert rejected_paths
    for path in rejected_paths:
        with pytest.raises(NotPart10):
            deidentify_bytes(path.read_bytes(), Profile.preset("basic"), SECRET)


@pytest.mark.parametrize("preset", PRESETS)
def test_no_protected_value_survives_anywhere_in_the_output(preset, corpus, outputs) -> None:
    profile = Profile.preset(preset)
    results = outputs(preset)
    leaks = {}
    for f in corpus:
        out, out_ds = results[f.name]
        found = leaked_values(f.dataset, out, out_ds, profile)
        if found:
            leaks[f.name] = found
    assert not leaks


@pytest.mark.parametrize("preset", PRESETS)
def test_output_reparses_with_same_transfer_syntax_and_identical_pixels(
    preset, corpus, outputs
) -> None:
    results = outputs(preset)
    for f in corpus:
        out, out_ds = results[f.name]
        assert out[128:132] == b"DICM", f.name
        assert out[:128] == b"\x00" * 128, f.name
        for _ in out_ds.iterall():  # every element decodes
            pass
        original_ts = f.dataset.file_meta.TransferSyntaxUID
        assert out_ds.file_meta.TransferSyntaxUID == original_ts, f.name
        assert not [t for t in out_ds.keys() if t.element == 0], f.name  # noqa: SIM118
        if "PixelData" in f.dataset:
            assert out_ds.PixelData == f.dataset.PixelData, f.name
        else:
            assert "PixelData" not in out_ds, f.name


@pytest.mark.parametrize("preset", PRESETS)
def test_output_says_it_is_deidentified(preset, corpus, outputs) -> None:
    """E.1.1 item 6: Patient Identity Removed YES and codes for the profile and options."""
    profile = Profile.preset(preset)
    expected = [c.value for c in profile.method_codes()]
    for f in corpus:
        _, ds = outputs(preset)[f.name]
        assert ds.PatientIdentityRemoved == "YES"
        codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
        assert codes[-len(expected) :] == expected
        assert ds.LongitudinalTemporalInformationModified == (
            profile.longitudinal_temporal_information()
        )
        if "SOPInstanceUID" in ds:  # a few corpus files carry it in File Meta only
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID


@pytest.mark.parametrize("preset", PRESETS)
def test_same_input_and_key_give_the_same_bytes(preset, corpus, outputs) -> None:
    profile = Profile.preset(preset)
    sample = corpus[:: max(1, len(corpus) // 12)]
    for f in sample:
        assert deidentify_bytes(f.data, profile, SECRET) == outputs(preset)[f.name][0], f.name


def test_output_of_a_quarantined_file_as_shipped_is_refused(corpus: list[CorpusFile]) -> None:
    by_name = {p.name: p for p in corpus_paths()}
    for f in (f for f in corpus if f.quarantine_rule):
        with pytest.raises(QuarantinedInstance) as info:
            deidentify_bytes(by_name[f.name].read_bytes(), Profile.preset("basic"), SECRET)
        assert info.value.rule == f.quarantine_rule
        assert parse(f.data).BurnedInAnnotation == "NO"


def test_an_output_that_cannot_be_encoded_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value the transfer syntax cannot hold surfaces as UnencodableInstance, a
    DeidentificationError the job reports, not as an arbitrary exception."""
    real = part10_module.deidentify_reporting

    def corrupting(ds, profile, secret, pixels=None):  # type: ignore[no-untyped-def]
        cleaned = real(ds, profile, secret, pixels)
        ds.Rows = 70000  # does not fit US
        return cleaned

    monkeypatch.setattr(part10_module, "deidentify_reporting", corrupting)
    data = next(p for p in corpus_paths() if p.name == "CT_small.dcm").read_bytes()
    with pytest.raises(UnencodableInstance) as info:
        deidentify_bytes(data, Profile.preset("basic"), SECRET)
    assert isinstance(info.value, DeidentificationError)

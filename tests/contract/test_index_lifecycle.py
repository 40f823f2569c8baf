"""Index: legal hold flag and retention selection, the same on both backends
(docs/lifecycle.md)."""

from __future__ import annotations

import dataclasses

from cloudpacs.model import IndexEntry, LegalHold

from .conftest import Adapters
from .records import entry
from .records import uid as u

HOLD = LegalHold(reason="litigation 2024-17", since="2025-03-01T10:00:00.000Z", by="alice")


def stored(e: IndexEntry, at: str) -> IndexEntry:
    return dataclasses.replace(e, instance=dataclasses.replace(e.instance, stored_at=at))


def test_a_study_has_no_hold_until_one_is_set(adapters: Adapters) -> None:
    adapters.index.add_instance(entry(u(60), u(60, 1), u(60, 1, 1)), replace=False)
    assert adapters.index.get_hold(u(60)) is None
    assert adapters.index.set_hold(u(60), HOLD) is True
    assert adapters.index.get_hold(u(60)) == HOLD
    assert adapters.open_index().get_hold(u(60)) == HOLD


def test_setting_a_hold_again_replaces_it(adapters: Adapters) -> None:
    adapters.index.add_instance(entry(u(60), u(60, 1), u(60, 1, 1)), replace=False)
    adapters.index.set_hold(u(60), HOLD)
    newer = dataclasses.replace(HOLD, reason="court order 88", by="bob")
    assert adapters.index.set_hold(u(60), newer) is True
    assert adapters.index.get_hold(u(60)) == newer


def test_no_hold_on_a_study_that_is_not_indexed(adapters: Adapters) -> None:
    assert adapters.index.set_hold(u(61), HOLD) is False
    assert adapters.index.get_hold(u(61)) is None
    assert adapters.index.get_study(u(61)) is None
    assert adapters.index.release_hold(u(61)) is None


def test_release_returns_the_hold_once(adapters: Adapters) -> None:
    adapters.index.add_instance(entry(u(60), u(60, 1), u(60, 1, 1)), replace=False)
    adapters.index.set_hold(u(60), HOLD)
    assert adapters.index.release_hold(u(60)) == HOLD
    assert adapters.index.get_hold(u(60)) is None
    assert adapters.index.release_hold(u(60)) is None
    assert adapters.index.get_study(u(60)) is not None


def test_the_hold_survives_stores_and_partial_removals(adapters: Adapters) -> None:
    index = adapters.index
    index.add_instance(entry(u(60), u(60, 1), u(60, 1, 1)), replace=False)
    index.set_hold(u(60), HOLD)
    index.add_instance(entry(u(60), u(60, 1), u(60, 1, 2)), replace=False)
    index.add_instance(entry(u(60), u(60, 2), u(60, 2, 1), modality="MR"), replace=False)
    index.add_instance(entry(u(60), u(60, 1), u(60, 1, 1), version=2), replace=True)
    index.remove_instances(u(60), u(60, 2))
    assert index.get_hold(u(60)) == HOLD
    found = index.get_study(u(60))
    assert found is not None and found.instance_count == 2


def test_the_hold_goes_with_the_study(adapters: Adapters) -> None:
    """A study indexed again under the same UID starts without the old study's hold."""
    index = adapters.index
    index.add_instance(entry(u(60), u(60, 1), u(60, 1, 1)), replace=False)
    index.set_hold(u(60), HOLD)
    index.remove_instances(u(60))
    assert index.get_hold(u(60)) is None
    index.add_instance(entry(u(60), u(60, 1), u(60, 1, 1)), replace=False)
    assert index.get_hold(u(60)) is None


def _three_studies(adapters: Adapters) -> None:
    index = adapters.index
    index.add_instance(
        stored(entry(u(70), u(70, 1), u(70, 1, 1)), "2024-01-10T08:00:00.000+00:00"), replace=False
    )
    index.add_instance(
        stored(entry(u(71), u(71, 1), u(71, 1, 1)), "2024-02-10T08:00:00.000+00:00"), replace=False
    )
    index.add_instance(
        stored(entry(u(71), u(71, 1), u(71, 1, 2)), "2024-06-01T08:00:00.000+00:00"), replace=False
    )
    index.add_instance(
        stored(entry(u(72), u(72, 1), u(72, 1, 1)), "2024-03-10T08:00:00.000+00:00"), replace=False
    )


def test_selection_by_the_last_store_into_each_study(adapters: Adapters) -> None:
    _three_studies(adapters)
    found = list(adapters.index.studies_stored_before("2024-05-01T00:00:00.000+00:00"))
    assert [(s.study_uid, s.last_stored_at, s.hold) for s in found] == [
        (u(70), "2024-01-10T08:00:00.000+00:00", None),
        (u(72), "2024-03-10T08:00:00.000+00:00", None),
    ]
    assert list(adapters.index.studies_stored_before("2024-01-10T08:00:00.000+00:00")) == []
    everything = adapters.index.studies_stored_before("2025-01-01T00:00:00.000+00:00")
    assert [s.study_uid for s in everything] == [u(70), u(72), u(71)]


def test_selection_reports_holds(adapters: Adapters) -> None:
    _three_studies(adapters)
    adapters.index.set_hold(u(72), HOLD)
    found = {s.study_uid: s.hold for s in adapters.index.studies_stored_before("2024-05-01")}
    assert found == {u(70): None, u(72): HOLD}


def test_a_replacement_counts_as_a_store(adapters: Adapters) -> None:
    _three_studies(adapters)
    newer = stored(entry(u(70), u(70, 1), u(70, 1, 1), version=2), "2024-07-01T08:00:00.000+00:00")
    adapters.index.add_instance(newer, replace=True)
    found = [s.study_uid for s in adapters.index.studies_stored_before("2024-05-01")]
    assert found == [u(72)]


def test_removals_do_not_make_a_study_older(adapters: Adapters) -> None:
    """Deleting the newest instance leaves the time of the last store as it was."""
    _three_studies(adapters)
    adapters.index.remove_instances(u(71), u(71, 1), u(71, 1, 2))
    assert u(71) not in [s.study_uid for s in adapters.index.studies_stored_before("2024-05-01")]


def test_removed_studies_are_not_selected(adapters: Adapters) -> None:
    _three_studies(adapters)
    adapters.index.remove_instances(u(70))
    assert [s.study_uid for s in adapters.index.studies_stored_before("2024-05-01")] == [u(72)]

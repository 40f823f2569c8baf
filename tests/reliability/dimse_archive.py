"""What the DIMSE fault and load checks assert of the archive afterwards (DESIGN.md §6).

- every instance the bridge acknowledged (C-STORE status 0x0000) is listed by QIDO-RS and
  retrieved by WADO-RS with the data set bytes the SCU sent (the File Meta Information is
  the bridge's: PS3.10 7.1);
- nothing else is on disk: no object the bridge did not acknowledge, no temporary file of an
  interrupted write; index and objects agree (the repair sweep has nothing to do);
- the bridge still serves: a new association's C-ECHO succeeds.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass

from pydicom import dcmread
from pynetdicom import AE

from cloudpacs.keys import instance_key
from tests.dimse.factory import dataset_bytes
from tests.dimse.harness import BRIDGE_AE, Bridge
from tests.reliability.archive import check_consistent

VERIFICATION = "1.2.840.10008.1.1"


@dataclass(frozen=True)
class Sent:
    """One instance as the SCU sent it."""

    study: str
    series: str
    sop: str
    data_set: bytes


def sent(part10_bytes: bytes) -> Sent:
    ds = dcmread(io.BytesIO(part10_bytes), stop_before_pixels=True)
    uids = (str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID))
    return Sent(*uids, data_set=dataset_bytes(part10_bytes))


def files_on_disk(bridge: Bridge) -> set[str]:
    """Every file under the object store, temporary ones included, as keys."""
    root = bridge.core.data_dir / "objects"
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def check_archive(bridge: Bridge, acknowledged: list[Sent]) -> None:
    """Exactly the acknowledged instances are stored, intact, indexed and retrievable."""
    expected = {instance_key(s.study, s.series, s.sop) for s in acknowledged}
    assert files_on_disk(bridge) == expected
    check_consistent(bridge.services.index, bridge.services.blobs)
    web = bridge.web()
    by_study: dict[str, list[Sent]] = defaultdict(list)
    for item in acknowledged:
        by_study[item.study].append(item)
    for study, items in by_study.items():
        listed = web.get(f"/dicom-web/studies/{study}/instances", params={"limit": "1000"})
        assert listed.status_code == 200, listed.text
        assert {i["00080018"]["Value"][0] for i in listed.json()} == {s.sop for s in items}
        for item in items:
            url = f"/dicom-web/studies/{study}/series/{item.series}/instances/{item.sop}"
            got = web.get(url, headers={"Accept": "application/dicom"})
            assert got.status_code == 200, (item.sop, got.status_code)
            assert dataset_bytes(got.content) == item.data_set, item.sop


def check_serving(port: int, calling: str = "ADMIN") -> None:
    """A new association is accepted and answers C-ECHO with Success."""
    ae = AE(ae_title=calling)
    ae.add_requested_context(VERIFICATION)
    ae.acse_timeout = 10
    assoc = ae.associate("127.0.0.1", port, ae_title=BRIDGE_AE)
    assert assoc.is_established, "the bridge refused a new association"
    status = assoc.send_c_echo()
    assoc.release()
    assert status.Status == 0x0000

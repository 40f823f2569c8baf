"""C-STORE answers the IOD check's statuses (PS3.4 B.2.3): 0xB007 stored with a warning,
0xA900 refused and not stored; a complete object is 0x0000 either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.uid import CTImageStorage, generate_uid
from pynetdicom import AE

from tests.dimse.factory import ct_instance
from tests.dimse.harness import BRIDGE_AE, start_bridge
from tests.support.iod_samples import complete_ct, strip


@pytest.mark.parametrize(("mode", "incomplete_status"), [("warn", 0xB007), ("reject", 0xA900)])
def test_c_store_statuses_follow_the_validation_setting(
    tmp_path: Path, mode: str, incomplete_status: int
) -> None:
    bridge = start_bridge(tmp_path, core_settings={"validation": mode})
    try:
        study = generate_uid()
        complete = complete_ct(ct_instance(study, generate_uid(), 1))
        incomplete = strip(complete_ct(ct_instance(study, generate_uid(), 2)), "PatientName")
        ae = AE(ae_title="CT_SCANNER_1")
        ae.add_requested_context(CTImageStorage)
        assoc = ae.associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE)
        assert assoc.is_established
        statuses = [assoc.send_c_store(ds).Status for ds in (complete, incomplete)]
        assoc.release()
    finally:
        bridge.server.stop()
    assert statuses == [0x0000, incomplete_status]
    stored = {r.sop_uid for r in bridge.services.retrieve.instances(study)}
    expected = {complete.SOPInstanceUID}
    if mode == "warn":
        expected.add(incomplete.SOPInstanceUID)
    assert stored == expected

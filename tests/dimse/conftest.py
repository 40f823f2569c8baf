"""Fixtures of the DIMSE tests: a bridge per test, a C-MOVE destination, DCMTK (see harness)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pynetdicom import AE, AllStoragePresentationContexts, evt

from tests.dimse.harness import ALL_SYNTAXES, DCMTK_TOOLS, Bridge, StorageScp, start_bridge


@pytest.fixture(scope="session")
def move_destination() -> Iterator[StorageScp]:
    ae = AE(ae_title="MOVE_DEST")
    for cx in AllStoragePresentationContexts:
        assert cx.abstract_syntax is not None
        ae.add_supported_context(cx.abstract_syntax, ALL_SYNTAXES)
    holder: dict[str, StorageScp] = {}

    def on_store(event: Any) -> int:
        scp = holder["scp"]
        with scp.lock:
            scp.received.append((event.assoc.requestor.ae_title, event.encoded_dataset()))
        return 0

    handlers: list[Any] = [(evt.EVT_C_STORE, on_store)]
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
    assert server is not None
    holder["scp"] = StorageScp("MOVE_DEST", server)
    yield holder["scp"]
    server.shutdown()


@pytest.fixture
def bridge(tmp_path: Path, move_destination: StorageScp) -> Iterator[Bridge]:
    move_destination.clear()
    running = start_bridge(tmp_path, move_destination)
    yield running
    running.server.stop(grace=2)


@pytest.fixture(scope="session")
def dcmtk() -> None:
    """DCMTK's tools: skipped locally when missing, a failure under CI."""
    missing = [tool for tool in DCMTK_TOOLS if shutil.which(tool) is None]
    if missing:
        message = f"DCMTK tools not installed: {', '.join(missing)} (Debian package dcmtk)"
        if os.environ.get("CI"):
            pytest.fail(message + " - CI must install them")
        pytest.skip(message)

"""Real DIMSE peers against a real bridge on loopback (DESIGN.md §3, ``tests/dimse``).

Each test gets a bridge on a free port over a fresh embedded backend (SQLite + files in a
temporary folder), an audit log it can read back, and a storage SCP standing in for a
C-MOVE destination. DCMTK tools run as subprocesses; when they are missing the tests that
need them are skipped locally and **fail** under CI (``CI`` set), so CI cannot pass without
having exercised them.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.association import Association
from pynetdicom.transport import ThreadedAssociationServer

from cloudpacs.runtime import Services, build_services
from cloudpacs.settings import Settings, load_settings
from dimse_bridge.server import DimseServer, start
from dimse_bridge.settings import load_dimse_settings

BRIDGE_AE = "CLOUDPACS"
AE_ROLES = {
    "CT_SCANNER_*": "technologist",
    "WORKSTATION_*": "viewer",
    "RESEARCH_*": "researcher",
    "ADMIN": "admin",
}
VERIFICATION = "1.2.840.10008.1.1"
DCMTK_TOOLS = ("echoscu", "storescu", "findscu", "getscu", "movescu")
ALL_SYNTAXES = [
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5",
]

logging.getLogger("pynetdicom").setLevel(logging.WARNING)


@dataclass
class StorageScp:
    """A C-MOVE destination: keeps what it receives (calling AE, Part-10 bytes)."""

    ae_title: str
    server: ThreadedAssociationServer
    received: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def clear(self) -> None:
        with self.lock:
            self.received.clear()


@dataclass
class Bridge:
    server: DimseServer
    services: Services
    core: Settings
    audit_path: Path

    @property
    def port(self) -> int:
        return self.server.port

    def audit(self) -> list[dict[str, Any]]:
        """The DIMSE events of the audit trail, oldest first."""
        if not self.audit_path.exists():
            return []
        events = [json.loads(line) for line in self.audit_path.read_text().splitlines() if line]
        return [e for e in events if e["entry_point"] == "dimse"]

    def web(self) -> Any:
        """A DICOMweb client of the same services (auth none: a loopback client is admin)."""
        from fastapi.testclient import TestClient

        from cloudpacs.web.app import create_app

        return TestClient(create_app(self.services), client=("127.0.0.1", 50000))


def start_bridge(
    tmp: Path,
    destination: StorageScp | None = None,
    *,
    core_settings: dict[str, Any] | None = None,
    **overrides: Any,
) -> Bridge:
    """A bridge on fresh services; ``core_settings`` change the core's settings, ``overrides``
    the bridge's."""
    core = load_settings(
        data_dir=tmp / "data",
        fsync=False,
        audit_log_path=tmp / "audit.jsonl",
        **(core_settings or {}),
    )
    services = build_services(core)
    audit_path = tmp / "audit.jsonl"
    options: dict[str, Any] = {
        "ae_title": BRIDGE_AE,
        "host": "127.0.0.1",
        "port": 0,
        "ae_roles": AE_ROLES,
        "shutdown_grace": 5,
        "acse_timeout": 5,
    }
    if destination is not None:
        options["move_destinations"] = {destination.ae_title: f"127.0.0.1:{destination.port}"}
    options.update(overrides)
    server = start(services, core, load_dimse_settings(**options))
    return Bridge(server, services, core, audit_path)


def run_tool(*args: str | int | Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a DCMTK tool; the result keeps stdout and stderr for assertions."""
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False
    )


def call_dcmtk(
    tool: str, calling: str, port: int, *args: str | Path, options: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """``tool [options] -aet calling -aec CLOUDPACS 127.0.0.1 port [args]``."""
    return run_tool(tool, *options, "-aet", calling, "-aec", BRIDGE_AE, "127.0.0.1", port, *args)


def query(**attrs: Any) -> Dataset:
    ds = Dataset()
    for keyword, value in attrs.items():
        setattr(ds, keyword, value)
    return ds


def associate(port: int, calling: str, called: str = BRIDGE_AE) -> Association:
    """A Verification association from ``calling`` to the bridge (or to ``called``)."""
    ae = AE(ae_title=calling)
    ae.add_requested_context(VERIFICATION)
    ae.acse_timeout = 5
    return ae.associate("127.0.0.1", port, ae_title=called)


def accepted_association(bridge: Bridge) -> Association:
    """The bridge's side of its one association, once the bridge lists it."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = bridge.server.server.active_associations
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError("the bridge shows no association")

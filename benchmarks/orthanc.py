"""Run the reference PACS (Orthanc with its DICOMweb plugin, Debian packages ``orthanc``
and ``orthanc-dicomweb``) on loopback with a throw-away storage folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.server_process import wait_until_up

PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def available() -> bool:
    return shutil.which("Orthanc") is not None and PLUGIN.exists()


@contextmanager
def orthanc(http_port: int, dicom_port: int) -> Iterator[str]:
    """Yield Orthanc's DICOMweb root URL."""
    workdir = Path(tempfile.mkdtemp(prefix="orthanc-bench-"))
    config = {
        "Name": "BENCH",
        "StorageDirectory": str(workdir / "storage"),
        "IndexDirectory": str(workdir / "index"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "Plugins": [str(PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    (workdir / "orthanc.json").write_text(json.dumps(config))
    process = subprocess.Popen(
        ["Orthanc", str(workdir / "orthanc.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{http_port}/system", process, "Orthanc")
        yield f"http://127.0.0.1:{http_port}/dicom-web"
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

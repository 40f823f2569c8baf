"""Recovery after an unclean stop of the embedded server.

A marker file exists while the server runs. Finding it at start means the last run ended
without a clean shutdown (power loss, kill -9); the index may then miss the last writes the
objects already hold, so the repair sweep runs in the background while the server serves.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from cloudpacs.runtime import Services
from cloudpacs.services.repair import RepairService

log = logging.getLogger(__name__)
MARKER = ".running"


def start_run(services: Services, data_dir: Path) -> threading.Thread | None:
    """Set the marker; if it was already set, start the repair sweep and return its thread."""
    marker = data_dir / MARKER
    unclean = marker.exists()
    marker.write_text("cloudpacs serve is running\n")
    if not unclean:
        return None
    log.warning("the last run did not stop cleanly: checking objects against the index")
    repair = RepairService(services.index, services.blobs, services.corrections)
    thread = threading.Thread(target=repair.sweep, name="repair-sweep", daemon=True)
    thread.start()
    return thread


def end_run(data_dir: Path) -> None:
    (data_dir / MARKER).unlink(missing_ok=True)

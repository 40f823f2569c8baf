"""How deep the reliability suite goes: ``quick`` under ``make test``, ``soak`` under
``make soak`` (``CLOUDPACS_RELIABILITY_PROFILE=soak``, ``CLOUDPACS_SOAK_SECONDS``)."""

from __future__ import annotations

import os

PROFILE_ENV = "CLOUDPACS_RELIABILITY_PROFILE"
SECONDS_ENV = "CLOUDPACS_SOAK_SECONDS"


def profile() -> str:
    return os.environ.get(PROFILE_ENV, "quick")


def soak() -> bool:
    return profile() == "soak"


def load_seconds() -> float:
    """How long each mixed load runs: a few seconds, unless the soak asks for longer."""
    return float(os.environ.get(SECONDS_ENV, "3"))

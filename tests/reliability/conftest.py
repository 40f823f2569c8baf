"""The reliability suite: fuzzing, fault injection, crash and load checks (DESIGN.md §6).

Two depths, one code: ``make test`` runs the ``quick`` Hypothesis profile (a few hundred
cases over the suite) and loads of a few seconds; ``make soak`` sets
``CLOUDPACS_RELIABILITY_PROFILE=soak`` (thousands of cases per property, over 10,000 in all)
and ``CLOUDPACS_SOAK_SECONDS`` for longer loads. The DIMSE checks share the DIMSE suite's
``dcmtk`` fixture (skipped locally without DCMTK, a failure under CI).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from tests.dimse.conftest import dcmtk
from tests.reliability.depth import profile

_RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile(
    "quick", max_examples=60, deadline=None, database=None, suppress_health_check=_RELAXED
)
settings.register_profile(
    "soak", max_examples=2500, deadline=None, database=None, suppress_health_check=_RELAXED
)
settings.load_profile(profile())

__all__ = ["dcmtk"]

"""From the table's action codes to one action for one attribute under one profile.

PS3.15 E.1.1: "A requirement for an Option, when implemented, overrides any requirement for
the underlying Profile." When several Options in force name an attribute (for example
Calibration Date under both Retain Device Identity "K" and Retain Longitudinal Temporal
Information with Modified Dates "C"), the more protective one wins: C before K.

Compound codes say "X unless Z or D is required to maintain IOD conformance". The IOD module
tables are not consulted, so each compound resolves the same way everywhere:

======== ======== =============================================================
code     becomes  reason
======== ======== =============================================================
Z/D      Z        a zero-length value satisfies Type 2 and is allowed for Type 3
X/Z      Z        idem; keeps Type 2 attributes present
X/Z/D    Z        idem
X/D      X        no dummy value is invented where removal is allowed
X/Z/U*   U        references stay, with every contained instance UID replaced
======== ======== =============================================================

A zero-length or removed value never discloses the original, so the choice affects only IOD
conformance, never confidentiality: a Type 1 attribute coded X/D (for example Content Date in
an enhanced IOD) may end up absent.
"""

from __future__ import annotations

from typing import Literal

from cloudpacs.deid.profile import Profile
from cloudpacs.deid.table import Rule

Action = Literal["D", "Z", "X", "K", "C", "U"]

_COMPOUND: dict[str, Action] = {
    "Z/D": "Z",
    "X/Z": "Z",
    "X/Z/D": "Z",
    "X/D": "X",
    "X/Z/U*": "U",
}
_SIMPLE: dict[str, Action] = {"D": "D", "Z": "Z", "X": "X", "K": "K", "C": "C", "U": "U"}


def _single(code: str) -> Action:
    code = code.strip()
    if code in _SIMPLE:
        return _SIMPLE[code]
    if code in _COMPOUND:
        return _COMPOUND[code]
    raise ValueError(f"unknown PS3.15 action code {code!r}")


def resolve(rule: Rule, profile: Profile) -> Action:
    """The action that ``profile`` takes on an attribute that ``rule`` describes."""
    overrides = {_single(code) for key, code in rule.options.items() if getattr(profile, key)}
    if "C" in overrides:
        return "C"
    if "K" in overrides:
        return "K"
    if overrides:  # an Option column holding something other than K or C
        return sorted(overrides)[0]
    return _single(rule.basic)

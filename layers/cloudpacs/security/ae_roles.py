"""Roles of DIMSE peers, from their calling AE titles (DESIGN.md §7).

The bridge has no tokens: a peer is identified by the Calling AE Title of its association
request. An ``AeRoleMap`` is an ordered list of rules ``pattern -> roles``; the **first rule
that matches wins**, as in a firewall or a ``pg_hba.conf``, so the outcome can be read off the
configuration top to bottom. Put exact titles before the wildcards that would also match them;
a rule that an earlier rule makes unreachable is refused when the map is built.

Patterns use the DICOM wildcard characters of PS3.4 C.2.2.2.4: ``*`` matches any run of
characters (also none), ``?`` exactly one. Matching is case-sensitive; leading and trailing
spaces of the title are not significant (PS3.5 §6.2, VR AE). A title that matches no rule gets
no roles: the bridge rejects the association.

The AE title is asserted by the peer, not proven; networks that need more should add TLS
client certificates or an address allow-list at the bridge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cloudpacs.security.identity import AuthMethod, Identity
from cloudpacs.security.permissions import Role

MAX_AE_LENGTH = 16
_PATTERN_CHARS = re.compile(r"[\x20-\x5b\x5d-\x7e]+")
"""Printable ASCII without backslash (the AE VR's character repertoire)."""


@dataclass(frozen=True)
class AeRule:
    pattern: str
    roles: frozenset[Role]

    def __post_init__(self) -> None:
        pattern = self.pattern.strip(" ")
        if not pattern or len(pattern) > MAX_AE_LENGTH or not _PATTERN_CHARS.fullmatch(pattern):
            raise ValueError(
                f"invalid AE title pattern {self.pattern!r}: 1 to {MAX_AE_LENGTH} printable "
                f"characters, no backslash"
            )
        object.__setattr__(self, "pattern", pattern)

    @property
    def is_exact(self) -> bool:
        return "*" not in self.pattern and "?" not in self.pattern

    def matches(self, ae_title: str) -> bool:
        return _compile(self.pattern).fullmatch(ae_title) is not None


class AeRoleMap:
    def __init__(self, rules: Iterable[AeRule]) -> None:
        self.rules = tuple(rules)
        for i, rule in enumerate(self.rules):
            for earlier in self.rules[:i]:
                if _shadows(earlier, rule):
                    raise ValueError(
                        f"AE rule {rule.pattern!r} can never match: "
                        f"the earlier rule {earlier.pattern!r} matches every title it does"
                    )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str | Iterable[str]]) -> AeRoleMap:
        """Build from ``{"CT_SCANNER_*": "technologist", "PACS": ["viewer", "admin"]}``.

        Rule order is the mapping's order (YAML and JSON objects keep it). Unknown role
        names are a configuration error (``ValueError``), not silently dropped.
        """
        rules = []
        for pattern, value in mapping.items():
            names = [value] if isinstance(value, str) else list(value)
            try:
                roles = frozenset(Role(name) for name in names)
            except ValueError:
                raise ValueError(
                    f"AE rule {pattern!r}: unknown role in {names!r} "
                    f"(known: {', '.join(r.value for r in Role)})"
                ) from None
            rules.append(AeRule(pattern, roles))
        return cls(rules)

    def match(self, calling_ae: str) -> AeRule | None:
        """The first rule matching ``calling_ae``, or None."""
        title = calling_ae.strip(" ")
        if not title or len(title) > MAX_AE_LENGTH:
            return None
        return next((rule for rule in self.rules if rule.matches(title)), None)

    def roles_for(self, calling_ae: str) -> frozenset[Role]:
        """The roles of ``calling_ae``; empty for an unknown title."""
        rule = self.match(calling_ae)
        return rule.roles if rule else frozenset()

    def identity(self, calling_ae: str, *, source_address: str | None = None) -> Identity:
        """The ``Identity`` under which the bridge serves an association from ``calling_ae``."""
        title = calling_ae.strip(" ")
        return Identity(
            subject=f"ae:{title}",
            username=title,
            roles=self.roles_for(title),
            source_address=source_address,
            auth_method=AuthMethod.AE_TITLE,
        )


def _compile(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _shadows(earlier: AeRule, later: AeRule) -> bool:
    """True when every title ``later`` matches is matched by ``earlier`` already.

    Decided exactly when ``later`` is an exact title or ``earlier`` is a plain prefix
    pattern (``CT_*``, ``*``); other pairs count as not shadowing, so the check can miss an
    unreachable rule but never refuses a reachable one.
    """
    if later.is_exact:
        return earlier.matches(later.pattern)
    if earlier.pattern.endswith("*") and not _has_wildcard(earlier.pattern[:-1]):
        prefix = earlier.pattern[:-1]
        later_prefix = re.split(r"[*?]", later.pattern, maxsplit=1)[0]
        return later_prefix.startswith(prefix)
    return earlier.pattern == later.pattern


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text

"""Settings of a command-line command: loaded, or the reason printed for exit status 2."""

from __future__ import annotations

import sys

from cloudpacs.settings import Settings, SettingsError, load_settings


def command_settings(**overrides: object) -> Settings | None:
    """The settings with ``overrides``; None after printing why they are invalid."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return None

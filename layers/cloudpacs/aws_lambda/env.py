"""Settings of a Lambda function, validated once at cold start.

The function fails its initialisation (and Lambda reports it) with one message that names
every missing or invalid ``CLOUDPACS_*`` variable, instead of failing on the first request.
"""

from __future__ import annotations

from cloudpacs.observability import logger
from cloudpacs.settings import Settings, SettingsError, settings_from_environment


def function_settings(function: str, *required: str) -> Settings:
    """This process's settings; ``required`` names settings this function cannot do without."""
    try:
        settings = settings_from_environment()
    except SettingsError as exc:
        logger.error("the %s function cannot start: %s", function, exc)
        raise
    missing = [f"CLOUDPACS_{name.upper()}" for name in required if not getattr(settings, name)]
    if settings.backend != "aws":
        missing.insert(0, "CLOUDPACS_BACKEND=aws")
    if missing:
        message = f"the {function} function cannot start: it needs " + ", ".join(missing)
        logger.error(message)
        raise SettingsError(message)
    return settings

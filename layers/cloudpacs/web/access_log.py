"""The local server's access log without query strings.

QIDO-RS query strings carry matching keys such as ``PatientName=DOE^JANE``: PHI, which must
not reach the application log (no PHI beyond UIDs in logs). uvicorn's access log
prints the path with its query string; this filter keeps the path (its UIDs identify what was
asked for) and drops the query. Who asked, and the outcome, is in the audit trail.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_PATH_ARG = 2
"""uvicorn logs ``(client, method, path_with_query, http_version, status)``."""


class DropQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARG:
            target = args[_PATH_ARG]
            path, _, query = target.partition("?") if isinstance(target, str) else ("", "", "")
            if query:
                record.args = (*args[:_PATH_ARG], f"{path}?(query omitted)", *args[_PATH_ARG + 1 :])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with ``DropQueryString`` on the access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query_string"] = {"()": DropQueryString}
    config["handlers"]["access"]["filters"] = ["drop_query_string"]
    return config

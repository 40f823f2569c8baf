"""The embedded server's open-file limit.

A server holds a descriptor per connection, per SQLite connection and per object mapped while
it is sent (``FileBlobStore.get_buffer``: a whole-study answer keeps about two batches of
objects mapped). The usual soft limit of 1,024 would cap the server at a few dozen concurrent
study downloads, so ``serve`` takes the hard limit, as other servers do.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)
CEILING = 1 << 20


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard one (at most ``CEILING``); the soft
    limit in force after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = CEILING if hard == resource.RLIM_INFINITY else min(hard, CEILING)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as exc:  # macOS caps below its reported hard limit
            log.info("open-files limit stays at %d: %s", soft, exc)
            return soft
        return wanted
    return soft

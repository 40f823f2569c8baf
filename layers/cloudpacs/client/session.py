"""One HTTP session to a DICOMweb root: authentication, timeouts and retries.

A request is tried again, with exponential backoff and full jitter (so many clients that
failed together do not come back together), on connection errors and on the answers that
say "later": 429 and 500, 502, 503, 504. Every STOW-RS body the client sends is a set of
whole instances, and storing the same instance twice is idempotent, so a retried store
changes nothing that the first attempt stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_random_exponential,
)

from cloudpacs.client.auth import BearerAuth

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Tries per request, the first included."""
    initial_wait: float = 0.5
    max_wait: float = 20.0


class Session:
    """Requests relative to a DICOMweb root (``url``), or to absolute URLs (signed uploads)."""

    def __init__(
        self,
        url: str,
        auth: BearerAuth | None = None,
        *,
        timeout: float = 60,
        retry: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.root = url.rstrip("/")
        self.retry = retry
        self.http = httpx.Client(base_url=self.root + "/", auth=auth, timeout=timeout)
        self.retries = 0
        """How many requests were sent again (for the summary)."""

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The answer after retries: the last answer, or the last connection error raised."""
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait_random_exponential(
                multiplier=self.retry.initial_wait, max=self.retry.max_wait
            ),
            retry=retry_if_exception_type(httpx.TransportError)
            | retry_if_result(lambda r: r.status_code in RETRY_STATUSES),
            before_sleep=self._count,
        )
        try:
            response: httpx.Response = retrying(
                self.http.request, method, url.lstrip("/"), **kwargs
            )
        except RetryError as exc:  # the last attempt still answered a retry status
            last: httpx.Response = exc.last_attempt.result()
            return last
        return response

    def _count(self, _: object) -> None:
        self.retries += 1

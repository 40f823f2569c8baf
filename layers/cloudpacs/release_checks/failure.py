"""The one way a release check fails: `CheckFailed` with a reason an operator can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


class CheckFailed(RuntimeError):
    """A release check failed; the message says which step and why."""


def expect(response: httpx.Response, step: str, *statuses: int) -> httpx.Response:
    """``response`` if its status is one of ``statuses``, else `CheckFailed` naming the step,
    the request and the status with the start of the body (the PS3.18 reason)."""
    if response.status_code not in statuses:
        request = response.request
        raise CheckFailed(
            f"{step}: {request.method} {request.url} answered {response.status_code} "
            f"(expected {', '.join(map(str, statuses))}): {response.text[:300]}"
        )
    return response

"""A requests session for DICOMweb clients that follow redirects to presigned URLs.

dicomweb-client sets ``Host`` explicitly on its non-streamed GETs, and requests keeps an
explicit ``Host`` header when it follows a redirect to another host, so the request for the
presigned S3 URL would name the API's host and S3 refuses it. This session drops ``Host`` (as
requests already drops ``Authorization``) when a redirect leaves the original host.
docs/decisions/0001-large-wado-responses.md shows the same few lines for client code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests


class RedirectSafeSession(requests.Session):
    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        super().rebuild_auth(prepared_request, response)
        before = urlsplit(response.request.url or "").hostname
        if urlsplit(prepared_request.url or "").hostname != before:
            prepared_request.headers.pop("Host", None)

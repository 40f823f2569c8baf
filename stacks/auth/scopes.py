"""OAuth scopes of the DICOMweb API, checked by API Gateway per method.

Scopes gate the kind of operation a token may reach at the edge; the role of the caller (Cognito
group ``viewer``, ``technologist``, ``researcher`` or ``admin``) decides inside the service what
it may actually do. Machine tokens (client credentials) carry scopes but no groups.
"""

from __future__ import annotations

RESOURCE_SERVER = "cloudpacs"
READ = "read"
WRITE = "write"
DELETE = "delete"

DESCRIPTIONS = {
    READ: "Search and retrieve (QIDO-RS, WADO-RS)",
    WRITE: "Store and upload (STOW-RS, uploads)",
    DELETE: "Delete studies, series and instances",
}


def full(scope: str) -> str:
    """The scope as it appears in tokens and in API Gateway: ``cloudpacs/read``."""
    return f"{RESOURCE_SERVER}/{scope}"

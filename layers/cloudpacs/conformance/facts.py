"""What the HTTP side of cloudpacs conforms to, read from the tables the code runs on."""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.charset import python_encoding
from pydicom.uid import UID
from starlette.routing import Route

from cloudpacs.conformance.markdown import size
from cloudpacs.dicom import attributes as A
from cloudpacs.dicom import transcode
from cloudpacs.security.permissions import PERMISSIONS, Action, Role
from cloudpacs.services import ingest
from cloudpacs.settings import Settings
from cloudpacs.validation.iod_check import MISMATCH_WARNING
from cloudpacs.web.access import Open, action_of
from cloudpacs.web.routers import all_routers, mount_prefix

STOW_STATUSES = {
    ingest.PROCESSING_FAILURE: ("Failure", "Processing failure (the object could not be stored)"),
    ingest.DUPLICATE_SOP_INSTANCE: (
        "Failure",
        "Duplicate SOP Instance: another object holds the SOP Instance UID (policy reject)",
    ),
    ingest.DATASET_DOES_NOT_MATCH: (
        "Failure",
        "Data set does not match SOP class, or is not in the study of the request",
    ),
    ingest.CANNOT_UNDERSTAND: ("Failure", "Cannot understand: not a DICOM Part-10 object"),
    MISMATCH_WARNING: (
        "Warning",
        "Data set does not match SOP class: attributes its IOD requires are missing "
        "(stored; validation warn)",
    ),
    ingest.ELEMENTS_DISCARDED: (
        "Warning",
        "Elements discarded: a different object was kept (duplicate policy ignore)",
    ),
}
"""STOW-RS status codes (PS3.18 §10.5.3, Failure Reason (0008,1197) / Warning Reason)."""


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    access: str
    service: str


def _service(name: str) -> str:
    return {
        "qido": "QIDO-RS",
        "wado": "WADO-RS",
        "stow": "STOW-RS",
        "delete": "Delete",
        "uploads": "Large uploads",
        "inbox": "Large uploads",
        "deidentify": "De-identification",
        "ops": "Operations",
        "audit": "Audit",
        "rest_api": "REST API",
        "research": "Research (de-identified, read-only)",
    }.get(name, name)


def http_routes(settings: Settings) -> list[HttpRoute]:
    """Every route the local server mounts, with the action it performs."""
    found: list[HttpRoute] = []
    for name, router, mount in all_routers():
        prefix = mount_prefix(mount, settings)
        for route in router.routes:
            if not isinstance(route, Route):
                continue
            access = action_of(route.endpoint)
            label = access.value if isinstance(access, (Action, Open)) else "research read"
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append(HttpRoute(method, prefix + route.path, label, _service(name)))
    return found


def query_attributes() -> dict[str, tuple[str, ...]]:
    """QIDO-RS / C-FIND matching keys by level (PS3.18 Tables 10.6.1-5 to -7)."""
    return {
        "Patient": A.PATIENT_ATTRIBUTES,
        "Study": A.STUDY_ATTRIBUTES,
        "Series": A.SERIES_ATTRIBUTES,
        "Instance": A.INSTANCE_ATTRIBUTES,
    }


def default_results() -> dict[str, tuple[str, ...]]:
    """Attributes every QIDO-RS match returns, by level (PS3.18 Tables 10.6.3-3 to -5)."""
    return {
        "Study": A.DEFAULT_STUDY_RESULT,
        "Series": A.DEFAULT_SERIES_RESULT,
        "Instance": A.DEFAULT_INSTANCE_RESULT,
    }


def roles() -> list[tuple[str, list[str]]]:
    return [(role.value, sorted(a.value for a in PERMISSIONS[role])) for role in Role]


def retrieve_syntaxes() -> list[tuple[str, str]]:
    """Transfer syntaxes WADO-RS can answer in besides the stored one (PS3.18 §8.7.3.5)."""
    targets = (*transcode.NATIVE_TARGETS, *transcode.COMPRESSED_TARGETS)
    return [(str(uid), UID(uid).name) for uid in targets]


def frame_media_types() -> list[tuple[str, str, str]]:
    return [(media, str(uid), UID(uid).name) for uid, media in transcode.FRAME_MEDIA_TYPES.items()]


def character_sets() -> list[str]:
    """Specific Character Set values the archive decodes (PS3.3 C.12.1.1.2)."""
    return sorted(term for term in python_encoding if term)


def limits(settings: Settings) -> list[tuple[str, str, str]]:
    return [
        ("STOW-RS request body", size(settings.max_request_bytes), "CLOUDPACS_MAX_REQUEST_BYTES"),
        (
            "QIDO-RS results per request",
            str(settings.qido_max_results),
            "CLOUDPACS_QIDO_MAX_RESULTS",
        ),
        (
            "WADO-RS inline response in AWS (larger: redirect)",
            size(settings.inline_response_bytes),
            "CLOUDPACS_INLINE_RESPONSE_BYTES",
        ),
        ("Large upload", size(settings.max_upload_bytes), "CLOUDPACS_MAX_UPLOAD_BYTES"),
        ("Duplicate SOP Instance policy", settings.duplicate_policy, "CLOUDPACS_DUPLICATE_POLICY"),
        ("IOD check on ingest (0xB007 / 0xA900)", settings.validation, "CLOUDPACS_VALIDATION"),
    ]

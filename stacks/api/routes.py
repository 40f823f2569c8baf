"""The DICOMweb route table of API Gateway: which function answers which method and path.

All routes live under ``/dicom-web`` (PS3.18 §8). Reads go to ``qido`` (search) and ``wado``
(retrieve). Every write to the archive goes to ``stow``: STOW-RS, the large-upload endpoints
(DESIGN.md §5), DELETE at the three levels, corrections (``PATCH`` of a study, the merge
of patients) and legal holds (``PUT``/``DELETE``/``GET`` of ``/studies/{study}/hold``): the
write or delete scope at the edge, the ``admin`` role inside for changes. Keeping delete with the
write side means one role holds ``s3:DeleteObject`` and index deletes, and no read function
can change the archive.
De-identification jobs go to ``deidentify``, which reads the archive's index and
queues work for the anonymize function. The de-identified research copy has its own root,
``/research/dicom-web``, read-only (the QIDO-RS and WADO-RS paths), served by ``research``,
whose role can read the research store and nothing of the archive.
``GET /health`` (status, package version and deployed commit) goes to ``wado``, whose role can
reach both the index and the objects it probes; so does the REST API under ``/api/v1``
(system status probes the same; the patient/study/series lists read the index as QIDO-RS does).
Each method requires one OAuth scope (`stacks.auth.scopes`); HEAD that of GET.
"""

from __future__ import annotations

from dataclasses import dataclass

from stacks.auth import scopes

BASE = "/dicom-web"
RESEARCH = "/research/dicom-web"
STUDY = "/studies/{study}"
SERIES = STUDY + "/series/{series}"
INSTANCE = SERIES + "/instances/{instance}"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str

    @property
    def scope(self) -> str:
        return {
            "GET": scopes.READ,
            "HEAD": scopes.READ,
            "POST": scopes.WRITE,
            "PUT": scopes.WRITE,
            "PATCH": scopes.WRITE,
            "DELETE": scopes.DELETE,
        }[self.method]


def _many(method: str, function: str, *paths: str, base: str = BASE) -> list[Route]:
    return [Route(method, base + path, function) for path in paths]


SEARCHES = (
    "/studies", "/series", "/instances",
    STUDY + "/series", STUDY + "/instances", SERIES + "/instances",
)  # fmt: skip
RETRIEVES = (
    STUDY, STUDY + "/metadata",
    SERIES, SERIES + "/metadata",
    INSTANCE, INSTANCE + "/metadata",
    INSTANCE + "/frames/{frames}",
    INSTANCE + "/bulkdata/{path+}",
    STUDY + "/rendered", SERIES + "/rendered",
    INSTANCE + "/rendered", INSTANCE + "/frames/{frames}/rendered",
    STUDY + "/thumbnail", SERIES + "/thumbnail",
    INSTANCE + "/thumbnail", INSTANCE + "/frames/{frames}/thumbnail",
)  # fmt: skip
REST_API = tuple(
    "/api/v1" + path
    for path in ("/system/status", "/system/metrics", "/patients", "/studies", "/series")
)
"""The REST API (``cloudpacs.web.routes.rest_api``): lists answered from the index, as QIDO."""


_ROUTES: tuple[Route, ...] = (
    *_many("GET", "qido", *SEARCHES),
    *_many("GET", "wado", *RETRIEVES),
    *_many("POST", "stow", "/studies", STUDY, "/uploads"),
    Route("GET", BASE + "/uploads/{upload}", "stow"),
    *_many("DELETE", "stow", STUDY, SERIES, INSTANCE),
    Route("PATCH", BASE + STUDY, "stow"),
    Route("POST", BASE + "/patients/{patient}/merge", "stow"),
    *(Route(method, BASE + STUDY + "/hold", "stow") for method in ("GET", "PUT", "DELETE")),
    Route("POST", BASE + STUDY + "/deidentify", "deidentify"),
    Route("GET", BASE + "/jobs/{job}", "deidentify"),
    *_many("GET", "research", *SEARCHES, *RETRIEVES, base=RESEARCH),
    Route("GET", "/health", "wado"),
    *_many("GET", "wado", *REST_API, base=""),
)
ROUTES: tuple[Route, ...] = (
    *_ROUTES,
    *(Route("HEAD", r.path, r.function) for r in _ROUTES if r.method == "GET"),
)
"""Every GET route also answers HEAD (RFC 9110 §9.3.2), sent to the same function."""

FUNCTIONS = tuple(sorted({route.function for route in ROUTES}))

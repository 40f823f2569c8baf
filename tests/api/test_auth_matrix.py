"""Access control end to end on the local server (DESIGN.md §7).

The server runs with ``auth=oidc`` and verifies real JWTs, signed by a key generated here and
served as a JWKS on loopback. Every role x route pair gets the status the permission matrix
says (written out below as the oracle, not computed from the code under test), 401 for
missing and bad tokens, bodies that say why, and every request leaves exactly one audit
event in the JSON-lines file (``Client.call`` checks it for each request). Also: CORS
preflights, ``GET /audit`` filters, change events on store and delete, ``auth=none`` on
loopback, and the same app behind API Gateway (Mangum, authorizer claims).
"""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pydicom
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from mangum import Mangum

from cloudpacs.adapters.local.hook_events import HookEventSink
from cloudpacs.runtime import Services, build_services
from cloudpacs.security.events import InstanceEvent, InstanceEventType
from cloudpacs.services.deid_model import DeidTask, ProfileSpec
from cloudpacs.settings import load_settings
from cloudpacs.web.app import create_app
from tests.support.multipart_body import stow_body
from tests.support.server import live_server
from tests.support.synthetic import Patient, ct_instance, ct_study
from tests.unit.security.jwks_server import JwksServer

ISSUER = "https://idp.example.org/cloudpacs"
AUDIENCE = "cloudpacs-viewer"
KID = "test-key-1"
ORIGIN = "https://viewer.example.org"

# -- the oracle: who may do what (DESIGN.md §7) ---------------------------------------------
SEARCH, RETRIEVE, STORE, UPLOAD = "search", "retrieve", "store", "upload"
DELETE, AUDIT = "delete", "read_audit"
DEIDENTIFY, SEARCH_R, RETRIEVE_R = "deidentify", "search_research", "retrieve_research"
UPDATE = "update"
HOLD, RELEASE_HOLD = "hold", "release_hold"
ROLES: dict[str, tuple[str, ...]] = {
    "viewer": ("viewer",),
    "technologist": ("technologist",),
    "researcher": ("researcher",),
    "admin": ("admin",),
    "viewer+technologist": ("viewer", "technologist"),
    "no-group": (),
    "unknown-group": ("nurse",),
}
ALLOWED: dict[str, set[str]] = {
    "viewer": {SEARCH, RETRIEVE},
    "technologist": {SEARCH, RETRIEVE, STORE, UPLOAD},
    "researcher": {SEARCH_R, RETRIEVE_R},  # the de-identified research root only
    "admin": {
        SEARCH,
        RETRIEVE,
        STORE,
        UPLOAD,
        DELETE,
        UPDATE,
        AUDIT,
        DEIDENTIFY,
        SEARCH_R,
        RETRIEVE_R,
        HOLD,
        RELEASE_HOLD,
    },
    "viewer+technologist": {SEARCH, RETRIEVE, STORE, UPLOAD},
    "no-group": set(),
    "unknown-group": set(),
}


# -- fixtures -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks(signing_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    with JwksServer() as server:
        jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
        server.jwks = {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}
        yield server


@dataclass
class Pacs:
    url: str
    """The DICOMweb root."""
    services: Services
    key: rsa.RSAPrivateKey

    @property
    def root(self) -> str:
        return self.url.removesuffix(self.services.settings.base_path)

    @property
    def audit_file(self) -> Path:
        path: Path = self.services.settings.audit_file
        return path

    def audit_events(self) -> list[dict[str, Any]]:
        if not self.audit_file.exists():
            return []
        return [json.loads(line) for line in self.audit_file.read_text().splitlines()]

    def token(self, groups: tuple[str, ...], username: str = "alice", **claims: Any) -> str:
        return sign(self.key, token_claims(groups, username, **claims))

    def seed(self, instances: int = 2) -> Study:
        """A study stored through the service (not a request: it leaves no audit event),
        of a patient of its own."""
        patient = Patient(patient_id=f"P-{uuid.uuid4().hex[:12]}")
        study_uid, objects = ct_study(instances, series=1, rows=8, columns=8, patient=patient)
        for data in objects:
            assert self.services.ingest.store(data).ok
        first = pydicom.dcmread(io.BytesIO(objects[0]))
        return Study(
            study_uid, str(first.SeriesInstanceUID), str(first.SOPInstanceUID), patient.patient_id
        )


@dataclass(frozen=True)
class Study:
    study: str
    series: str
    sop: str
    patient: str = ""


def token_claims(groups: tuple[str, ...], username: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": f"sub-{username}",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "cognito:username": username,
        "cognito:groups": list(groups),
        "token_use": "id",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(key: rsa.RSAPrivateKey, claims: dict[str, Any], kid: str = KID) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="module")
def pacs(
    tmp_path_factory: pytest.TempPathFactory, jwks: JwksServer, signing_key: rsa.RSAPrivateKey
) -> Iterator[Pacs]:
    with live_server(
        tmp_path_factory.mktemp("auth") / "data",
        auth="oidc",
        oidc_jwks_url=jwks.url,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        cors_allowed_origins=[ORIGIN],
    ) as (url, services):
        yield Pacs(url, services, signing_key)


@pytest.fixture(scope="module")
def seeded(pacs: Pacs) -> Study:
    return pacs.seed()


@pytest.fixture(scope="module")
def research_seeded(pacs: Pacs, seeded: Study) -> Study:
    """The de-identified copy of ``seeded`` in the research store (made by the worker)."""
    worker = pacs.services.deid_worker
    assert worker is not None
    task = DeidTask(seeded.study, ((seeded.series, seeded.sop),), ProfileSpec("basic"))
    (result,) = worker.process(task)
    assert result.research_study_uid and result.research_series_uid and result.research_sop_uid
    return Study(result.research_study_uid, result.research_series_uid, result.research_sop_uid)


@dataclass
class Client:
    """Makes requests and checks that each leaves exactly one audit event."""

    pacs: Pacs
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.pacs.url, timeout=30)

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        audited: bool = True,
        **kwargs: Any,
    ) -> tuple[httpx.Response, dict[str, Any] | None]:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        before = len(self.pacs.audit_events())
        response = self.http.request(method, path, headers=headers, **kwargs)
        response.read()
        # The upload worker audits each ingest on its own (entry point "inbox"), whenever it runs.
        events = [e for e in self.pacs.audit_events()[before:] if e["entry_point"] != "inbox"]
        if not audited:
            assert events == [], f"{method} {path} was audited: {events}"
            return response, None
        assert len(events) == 1, f"{method} {path} left {len(events)} audit events"
        event = events[0]
        assert event["request_id"] == response.headers["X-Request-Id"]
        assert event["status"] == response.status_code
        assert event["source_address"] == "127.0.0.1"
        assert event["entry_point"] == "dicomweb"
        return response, event


@pytest.fixture
def client(pacs: Pacs) -> Iterator[Client]:
    made = Client(pacs)
    yield made
    made.http.close()


# -- the role x route matrix ---------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    action: str
    method: str
    path: str
    """Relative to the DICOMweb root, with {study} {series} {sop} {upload} {job}; absolute if
    it starts with "//" (root routes, the research root)."""
    success: int = 200
    stow: bool = False
    """Send a STOW-RS body (a fresh instance; into {study} when the path names it)."""
    fresh: bool = False
    """Act on a study seeded for this request alone (delete)."""
    accept: str | None = None
    json: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    held: bool = False
    """Act on a study seeded for this request alone and placed on legal hold first."""

    @property
    def research(self) -> bool:
        """On the research root: the UIDs are those of the de-identified copy."""
        return self.path.startswith(RESEARCH_ROOT)


_I = "/studies/{study}/series/{series}/instances/{sop}"
NEW_NAME = {"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Roe^Richard"}]}}
MERGE_TARGET = {"PatientID": {"vr": "LO", "Value": ["P-MERGED"]}}
RESEARCH_ROOT = "//research/dicom-web"
ROUTES = [
    Case(SEARCH, "GET", "/studies"),
    Case(SEARCH, "GET", "/series"),
    Case(SEARCH, "GET", "/instances"),
    Case(SEARCH, "GET", "/studies/{study}/series"),
    Case(SEARCH, "GET", "/studies/{study}/instances"),
    Case(SEARCH, "GET", "/studies/{study}/series/{series}/instances"),
    Case(RETRIEVE, "GET", "/studies/{study}"),
    Case(RETRIEVE, "GET", "/studies/{study}/series/{series}"),
    Case(RETRIEVE, "GET", _I, accept="application/dicom"),
    Case(RETRIEVE, "GET", "/studies/{study}/metadata"),
    Case(RETRIEVE, "GET", "/studies/{study}/series/{series}/metadata"),
    Case(RETRIEVE, "GET", f"{_I}/metadata"),
    Case(RETRIEVE, "GET", f"{_I}/frames/1"),
    Case(RETRIEVE, "GET", f"{_I}/bulkdata/7FE00010"),
    Case(RETRIEVE, "GET", "/studies/{study}/rendered"),
    Case(RETRIEVE, "GET", "/studies/{study}/series/{series}/rendered"),
    Case(RETRIEVE, "GET", f"{_I}/rendered"),
    Case(RETRIEVE, "GET", f"{_I}/frames/1/rendered"),
    Case(RETRIEVE, "GET", "/studies/{study}/thumbnail"),
    Case(RETRIEVE, "GET", "/studies/{study}/series/{series}/thumbnail"),
    Case(RETRIEVE, "GET", f"{_I}/thumbnail"),
    Case(RETRIEVE, "GET", f"{_I}/frames/1/thumbnail"),
    Case(STORE, "POST", "/studies", stow=True),
    Case(STORE, "POST", "/studies/{study}", stow=True),
    Case(UPLOAD, "POST", "/uploads", success=201),
    Case(UPLOAD, "GET", "/uploads/{upload}", success=202),
    Case(DELETE, "DELETE", "/studies/{study}", fresh=True),
    Case(DELETE, "DELETE", "/studies/{study}/series/{series}", fresh=True),
    Case(DELETE, "DELETE", _I, fresh=True),
    Case(UPDATE, "PATCH", "/studies/{study}", fresh=True, json=NEW_NAME, headers={"If-Match": "*"}),
    Case(UPDATE, "POST", "/patients/{patient}/merge", fresh=True, json=MERGE_TARGET),
    Case(HOLD, "PUT", "/studies/{study}/hold", 201, json={"reason": "case 7"}, fresh=True),
    Case(RELEASE_HOLD, "DELETE", "/studies/{study}/hold", held=True),
    Case(RETRIEVE, "GET", "/studies/{study}/hold"),
    Case(AUDIT, "GET", "//metrics"),
    Case(AUDIT, "GET", "//audit"),
    Case(DEIDENTIFY, "POST", "/studies/{study}/deidentify", 202, json={"profile": "basic"}),
    Case(DEIDENTIFY, "GET", "/jobs/{job}"),
    Case(SEARCH, "GET", "//api/v1/system/status"),
    Case(AUDIT, "GET", "//api/v1/system/metrics"),
    Case(SEARCH, "GET", "//api/v1/patients"),
    Case(SEARCH, "GET", "//api/v1/studies"),
    Case(SEARCH, "GET", "//api/v1/series"),
]
ROUTES += [  # the research root: the same reads, on the de-identified copy
    Case(
        {SEARCH: SEARCH_R, RETRIEVE: RETRIEVE_R}[c.action],
        "GET",
        RESEARCH_ROOT + c.path,
        accept=c.accept,
    )
    for c in list(ROUTES)
    if c.action in (SEARCH, RETRIEVE)
    and not c.path.startswith("//")
    and not c.path.endswith("/hold")  # legal holds concern the archive only
]


def _expected_uids(case: Case, study: Study) -> dict[str, str | None]:
    path = case.path
    return {
        "study_uid": study.study if "{study}" in path else None,
        "series_uid": study.series if "{series}" in path else None,
        "sop_uid": study.sop if "{sop}" in path else None,
    }


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("case", ROUTES, ids=lambda c: f"{c.method} {c.path}")
def test_role_route_matrix(
    client: Client, pacs: Pacs, seeded: Study, research_seeded: Study, role: str, case: Case
) -> None:
    groups = ROLES[role]
    allowed = case.action in ALLOWED[role]
    study = pacs.seed(instances=1) if (case.fresh or case.held) and allowed else seeded
    if case.held and allowed:
        pacs.services.holds.place(study.study, "matrix", by="setup")
    study = research_seeded if case.research else study
    job = "none"
    if "{job}" in case.path:
        assert pacs.services.deid_jobs is not None
        job = pacs.services.deid_jobs.submit(seeded.study, ProfileSpec("basic"), owner=None).job_id
    upload = "none"
    if "{upload}" in case.path:
        assert pacs.services.uploads is not None
        upload = pacs.services.uploads.create(size=None, content_type=None, study=None, owner=None)[
            0
        ].upload_id
    path = case.path.format(
        study=study.study,
        series=study.series,
        sop=study.sop,
        upload=upload,
        job=job,
        patient=study.patient or "P-NONE",
    )
    url = pacs.root + path[1:] if path.startswith("//") else path
    kwargs: dict[str, Any] = {}
    if case.accept or case.headers:
        kwargs["headers"] = {
            **({"Accept": case.accept} if case.accept else {}),
            **(case.headers or {}),
        }
    if case.json is not None:
        kwargs["json"] = case.json
    stored_uid = None
    if case.stow:
        target = study.study if "{study}" in case.path else pydicom.uid.generate_uid()
        data = ct_instance(target, pydicom.uid.generate_uid(), 1, rows=8, columns=8)
        stored_uid = target
        body, headers = stow_body([data])
        kwargs = {"content": body, "headers": headers}

    response, event = client.call(
        case.method, url, token=pacs.token(groups, username=f"user-{role}"), **kwargs
    )
    assert event is not None
    assert event["actor"] == f"user-{role}"
    assert event["roles"] == sorted(g for g in groups if g != "nurse")
    assert event["auth_method"] == "jwt"
    assert event["action"] == case.action
    if allowed:
        assert response.status_code == case.success, response.text
        assert event["outcome"] == "success"
        assert event["reason"] is None
    else:
        assert response.status_code == 403, response.text
        reason = response.json()["error"]
        assert f"user-{role}" in reason
        if groups in ((), ("nurse",)):
            assert "has no cloudpacs role" in reason
        else:
            assert f"action {case.action!r} needs one of the roles" in reason
        assert event["outcome"] == "denied"
        assert event["reason"] == "forbidden"
    expected = _expected_uids(case, study)
    if case.stow and allowed:
        expected["study_uid"] = stored_uid
        assert event["instance_count"] == 1
        assert event["sop_uid"] is not None
    elif case.fresh and allowed and case.action in (DELETE, UPDATE):  # names the instance
        assert (event["study_uid"], event["series_uid"], event["sop_uid"]) == (
            study.study,
            study.series,
            study.sop,
        )
    else:
        for name, value in expected.items():
            assert event[name] == value, name
    if case.fresh and allowed and case.action in (DELETE, UPDATE):
        assert event["instance_count"] == 1
        if case.method == "DELETE":
            assert response.json() == {"deleted_instances": 1}
        else:
            assert response.json()["updatedInstances"] == 1
            assert event["previous"]


def test_matrix_covers_every_protected_route(pacs: Pacs) -> None:
    """Every non-public route the local server mounts is in ``ROUTES`` (one request each)."""
    base = pacs.services.settings.base_path
    app = create_app(pacs.services)
    mounted = set()
    for spec in app.openapi()["paths"].items():
        path, methods = spec
        for method in methods:
            mounted.add((method.upper(), path))
    tested = set()
    for case in ROUTES:
        path = case.path[1:] if case.path.startswith("//") else base + case.path
        path = path.replace("{sop}", "{sop}").replace("frames/1", "frames/{frame_list}")
        path = path.replace("bulkdata/7FE00010", "bulkdata/{tag_path}")
        tested.add((case.method, path))
    signed = {(m, f"{base}/uploads/{{upload}}/content") for m in ("PUT", "POST")}
    assert mounted - tested == {("GET", "/health"), *signed}  # tested below


def test_signed_upload_urls_need_no_token_and_are_audited(client: Client, pacs: Pacs) -> None:
    """The local inbox stands in for presigned S3 URLs: the signature is the credential."""
    tech = pacs.token(("technologist",), username="tom")
    data = ct_instance(pydicom.uid.generate_uid(), pydicom.uid.generate_uid(), 1, rows=8, columns=8)
    response, event = client.call("POST", "/uploads", token=tech, json={"size": len(data)})
    assert response.status_code == 201, response.text
    assert event is not None and (event["action"], event["actor"]) == ("upload", "tom")
    url = response.json()["url"]

    forged = url.replace("signature=", "signature=0")
    refused, event = client.call("PUT", forged, content=data)
    assert refused.status_code == 403
    assert "signature" in refused.json()["error"]
    assert event is not None
    assert (event["action"], event["actor"], event["outcome"]) == ("upload", "anonymous", "denied")

    accepted, event = client.call("PUT", url, content=data)
    assert accepted.status_code == 200, accepted.text
    assert event is not None
    assert (event["action"], event["actor"], event["outcome"]) == ("upload", "anonymous", "success")

    elsewhere, event = client.call("PUT", "/studies/1.2.3", content=data)
    assert elsewhere.status_code == 401  # only the inbox paths skip the bearer token


# -- authentication failures ---------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["admin"]
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _unsigned(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": KID}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


BAD_TOKENS: dict[str, tuple[Callable[[Pacs], str | None], str, str]] = {
    "missing": (lambda p: None, "no bearer token", "no_token"),
    "expired": (
        lambda p: p.token(("admin",), iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        "expired",
        "token_expired",
    ),
    "tampered": (lambda p: _tampered(p.token(("viewer",))), "signature", "invalid_token"),
    "wrong-issuer": (
        lambda p: p.token(("admin",), iss="https://evil.example.org"),
        "issuer",
        "invalid_token",
    ),
    "wrong-audience": (lambda p: p.token(("admin",), aud="other-app"), "audience", "invalid_token"),
    "alg-none": (
        lambda p: _unsigned(token_claims(("admin",), "mallory")),
        "algorithm",
        "invalid_token",
    ),
    "unknown-key": (
        lambda p: sign(
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
            token_claims(("admin",), "mallory"),
            kid="other-key",
        ),
        "unknown key",
        "invalid_token",
    ),
    "not-a-jwt": (lambda p: "not.a.jwt", "well-formed", "invalid_token"),
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/studies"), ("DELETE", "/studies/1.2.3"), ("GET", "//audit"), ("GET", "/nowhere")],
)
def test_bad_tokens_are_401_and_say_why(
    client: Client, pacs: Pacs, kind: str, method: str, path: str
) -> None:
    make, says, code = BAD_TOKENS[kind]
    url = pacs.root + path[1:] if path.startswith("//") else path
    response, event = client.call(method, url, token=make(pacs))
    assert response.status_code == 401
    assert says in response.json()["error"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="cloudpacs"')
    assert ('error="invalid_token"' in challenge) is (kind != "missing")
    assert event is not None
    assert event["actor"] == "anonymous"
    assert event["roles"] == []
    assert event["outcome"] == "denied"
    assert event["reason"] == code
    assert event["study_uid"] == ("1.2.3" if path == "/studies/1.2.3" else None)


def test_basic_auth_header_is_401(client: Client) -> None:
    response, event = client.call(
        "GET", "/studies", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"}
    )
    assert response.status_code == 401
    assert "Bearer <token>" in response.json()["error"]
    assert event is not None and event["reason"] == "invalid_token"


def test_unknown_path_is_404_once_authenticated(client: Client, pacs: Pacs) -> None:
    response, event = client.call("GET", "/nowhere", token=pacs.token(("viewer",)))
    assert response.status_code == 404
    assert event is not None
    assert (event["action"], event["outcome"], event["actor"]) == ("unrouted", "failed", "alice")


def test_bad_uid_is_400_and_kept_out_of_the_audit_trail(client: Client, pacs: Pacs) -> None:
    response, event = client.call(
        "GET", "/studies/DOE^JANE/metadata", token=pacs.token(("viewer",))
    )
    assert response.status_code == 400
    assert event is not None
    assert event["study_uid"] is None
    assert "DOE" not in pacs.audit_file.read_text()


def test_health_and_api_description_are_public_and_not_audited(client: Client, pacs: Pacs) -> None:
    for path in ("/health", "/openapi.json"):
        response, _ = client.call("GET", pacs.root + path, audited=False)
        assert response.status_code == 200


# -- CORS ---------------------------------------------------------------------------------
def test_preflight_is_answered_before_auth_and_not_audited(client: Client, pacs: Pacs) -> None:
    response, _ = client.call(
        "OPTIONS",
        "/studies",
        audited=False,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, accept",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "DELETE" in response.headers["Access-Control-Allow-Methods"]
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] != "*"


def test_preflight_from_another_origin_is_refused(client: Client) -> None:
    response, _ = client.call(
        "OPTIONS",
        "/studies",
        audited=False,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "not allowed" in response.json()["error"]


def test_refusals_carry_cors_headers_so_a_viewer_can_read_them(client: Client) -> None:
    response, _ = client.call("GET", "/studies", headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]
    other, _ = client.call("GET", "/studies", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


# -- GET /audit -----------------------------------------------------------------------------
def test_audit_filters(client: Client, pacs: Pacs, seeded: Study) -> None:
    time.sleep(0.01)  # earlier tests' events fall before ``start`` (audit times are in ms)
    now = datetime.now(UTC)
    start = now.replace(microsecond=now.microsecond // 1000 * 1000)
    viewer = pacs.token(("viewer",), username="vera")
    client.call("GET", f"/studies/{seeded.study}/metadata", token=viewer)
    client.call("DELETE", f"/studies/{seeded.study}", token=viewer)
    admin = pacs.token(("admin",), username="root")

    def audit(**params: Any) -> list[dict[str, Any]]:
        response, event = client.call("GET", pacs.root + "/audit", token=admin, params=params)
        assert response.status_code == 200, response.text
        assert event is not None and event["action"] == "read_audit"
        body = response.json()
        assert body["count"] == len(body["events"])
        return list(body["events"])

    mine = audit(actor="vera")
    assert [e["action"] for e in mine] == ["delete", "retrieve"]  # newest first
    assert [e["outcome"] for e in audit(actor="vera", outcome="denied")] == ["denied"]
    assert {e["actor"] for e in audit(action="read_audit", since=start.isoformat())} == {"root"}
    study = audit(study=seeded.study, since=start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert {(e["actor"], e["action"]) for e in study} == {("vera", "retrieve"), ("vera", "delete")}
    assert len(audit(limit=1)) == 1
    assert audit(actor="vera", until=start.isoformat()) == []

    for params in ({"since": "yesterday"}, {"limit": 0}, {"outcome": "maybe"}, {"study": "x"}):
        response, _ = client.call("GET", pacs.root + "/audit", token=admin, params=params)
        assert response.status_code == 400, params


# -- change events ------------------------------------------------------------------------
def test_store_and_delete_publish_events(client: Client, pacs: Pacs) -> None:
    sink = pacs.services.events
    assert isinstance(sink, HookEventSink)
    received: list[InstanceEvent] = []
    unsubscribe = sink.subscribe(received.append)
    try:
        study_uid, objects = ct_study(2, series=1, rows=8, columns=8)
        body, headers = stow_body(objects)
        tech = pacs.token(("technologist",), username="tom")
        response, event = client.call("POST", "/studies", token=tech, content=body, headers=headers)
        assert response.status_code == 200
        assert event is not None and event["instance_count"] == 2
        assert event["study_uid"] == study_uid
        stored = [e for e in received if e.type is InstanceEventType.STORED]
        assert {e.study_uid for e in stored} == {study_uid} and len(stored) == 2

        response, _ = client.call("POST", "/studies", token=tech, content=body, headers=headers)
        assert response.status_code == 200
        assert len(received) == 2  # an idempotent re-send publishes nothing

        admin = pacs.token(("admin",))
        response, event = client.call("DELETE", f"/studies/{study_uid}", token=admin)
        assert response.status_code == 200
        assert event is not None and event["instance_count"] == 2
        deleted = [e for e in received if e.type is InstanceEventType.DELETED]
        assert {e.sop_uid for e in deleted} == {e.sop_uid for e in stored}
    finally:
        unsubscribe()


# -- auth=none, and the app behind API Gateway ----------------------------------------------
def test_auth_none_serves_the_loopback_operator(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as (url, services):
        response = httpx.get(url + "/studies")
        assert response.status_code == 200
        events = [
            json.loads(line) for line in services.settings.audit_file.read_text().splitlines()
        ]
    assert len(events) == 1
    assert (events[0]["actor"], events[0]["roles"], events[0]["auth_method"]) == (
        "local",
        ["admin"],
        "none",
    )


def _apigw_event(method: str, path: str, claims: dict[str, str] | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "identity": {"sourceIp": "203.0.113.7"},
        "stage": "prod",
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "api.example.org", "Accept": "application/dicom+json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": context,
        "body": None,
        "isBase64Encoded": False,
    }


def test_behind_api_gateway_claims_decide(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, fsync=False, auth="apigateway")
    services = build_services(settings)
    handler = Mangum(create_app(services), lifespan="off")
    context: Any = None
    claims = {"sub": "s-1", "cognito:username": "vera", "cognito:groups": "viewer"}

    ok = handler(_apigw_event("GET", "/dicom-web/studies", claims), context)
    denied = handler(_apigw_event("DELETE", "/dicom-web/studies/1.2.3", claims), context)
    missing = handler(_apigw_event("GET", "/dicom-web/studies", None), context)

    assert ok["statusCode"] == 200
    assert denied["statusCode"] == 403
    assert "delete" in json.loads(denied["body"])["error"]
    assert missing["statusCode"] == 401
    events = [json.loads(line) for line in settings.audit_file.read_text().splitlines()]
    assert [(e["status"], e["auth_method"], e["source_address"]) for e in events] == [
        (200, "cognito_authorizer", "203.0.113.7"),
        (403, "cognito_authorizer", "203.0.113.7"),
        (401, None, "203.0.113.7"),
    ]
    assert {e["request_id"] for e in events} == {"c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}

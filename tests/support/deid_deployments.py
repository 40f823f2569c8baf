"""One de-identification deployment per runtime, reached by real clients per role.

- ``local``: the embedded server with ``auth=oidc``, verifying real RS256 JWTs against a JWKS
  served on loopback; de-identification runs in its in-process worker.
- ``lambda``: the handlers against moto behind the in-process API Gateway, each role's
  requests carrying that user's Cognito authorizer claims; ``settle`` plays the anonymize
  queue's event source mapping.

Both expose the same ``Deployment``: an httpx client per role on the API root (the part before
``/dicom-web`` and ``/research/dicom-web``), and the few back doors a test needs to set up a
fault (``corrupt``) or to look at the research store's objects (``research_objects``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from cloudpacs.keys import instance_key
from tests.support.aws_world import BUCKET
from tests.support.deid_world import DeidWorld, deid_world, deliver, load_all_handlers
from tests.support.lambda_api import LambdaApi, LambdaTransport
from tests.support.lambda_events import HOST, STAGE, claims
from tests.support.multipart_body import stow_body
from tests.support.server import live_server
from tests.unit.security.jwks_server import JwksServer

KINDS = ("local", "lambda")
USERS = {"admin": "ann.admin", "researcher": "rita.research", "viewer": "vic.viewer"}
ISSUER = "https://idp.example.org/cloudpacs"
AUDIENCE = "cloudpacs-research"
KID = "deid-test-key"
DICOM_WEB = "/dicom-web"
RESEARCH = "/research/dicom-web"


@dataclass
class Deployment:
    kind: str
    root: str
    """The API root: ``{root}/dicom-web`` is the archive, ``{root}/research/dicom-web`` the copy."""
    clients: dict[str, httpx.Client]
    settle: Callable[[], None]
    corrupt: Callable[[str, str, str], None]
    research_objects: Callable[[], dict[str, str]]
    """Key -> SHA-256 of every object in the research store."""
    extra: dict[str, Any] = field(default_factory=dict)

    def store(self, objects: list[bytes]) -> None:
        """STOW-RS as the admin."""
        body, headers = stow_body(objects)
        response = self.clients["admin"].post(
            f"{self.root}{DICOM_WEB}/studies", content=body, headers=headers
        )
        assert response.status_code == 200, response.text

    def deidentify(self, study: str, profile: str = "basic", **options: bool) -> httpx.Response:
        return self.clients["admin"].post(
            f"{self.root}{DICOM_WEB}/studies/{study}/deidentify",
            json={"profile": profile, "options": options},
        )

    def finished_job(self, url: str, timeout: float = 60) -> dict[str, Any]:
        """The job once it is completed or failed (after letting the worker run)."""
        deadline = time.monotonic() + timeout
        while True:
            self.settle()
            job: dict[str, Any] = self.clients["admin"].get(url).json()
            if job["state"] in ("completed", "failed"):
                return job
            assert time.monotonic() < deadline, f"job still {job['state']}: {job}"
            time.sleep(0.05)


@contextmanager
def running_deployment(kind: str, tmp_path: Path) -> Iterator[Deployment]:
    with ExitStack() as stack:
        deployment = (
            _local(stack, tmp_path)
            if kind == "local"
            else _lambda(stack, deid=stack.enter_context(deid_world()))
        )
        yield deployment


def _local(stack: ExitStack, tmp_path: Path) -> Deployment:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = stack.enter_context(JwksServer())
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwks.jwks = {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}
    url, services = stack.enter_context(
        live_server(
            tmp_path / "data",
            auth="oidc",
            oidc_jwks_url=jwks.url,
            oidc_issuer=ISSUER,
            oidc_audience=AUDIENCE,
        )
    )
    root = url.removesuffix(DICOM_WEB)
    clients = {
        role: stack.enter_context(
            httpx.Client(timeout=60, headers={"Authorization": f"Bearer {_token(key, role)}"})
        )
        for role in USERS
    }
    queue = services.deid_queue
    research = services.research
    assert queue is not None and research is not None

    def settle() -> None:
        assert queue.wait_idle(60)

    def corrupt(study: str, series: str, sop: str) -> None:
        garbage = b"\x00" * 64
        key = instance_key(study, series, sop)
        services.blobs.put(key, garbage, sha256=hashlib.sha256(garbage).hexdigest(), overwrite=True)

    def research_objects() -> dict[str, str]:
        blobs = research.blobs
        return {
            key: hashlib.sha256(blobs.get(key)).hexdigest()
            for key in blobs.list_keys("studies/")
            if key.endswith(".dcm")
        }

    return Deployment(
        "local", root, clients, settle, corrupt, research_objects, {"services": services}
    )


def _token(key: rsa.RSAPrivateKey, role: str) -> str:
    now = int(time.time())
    claims_ = {
        "sub": f"sub-{USERS[role]}",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
        "cognito:username": USERS[role],
        "cognito:groups": [role],
        "token_use": "id",
    }
    return jwt.encode(claims_, key, algorithm="RS256", headers={"kid": KID})


def _lambda(stack: ExitStack, deid: DeidWorld) -> Deployment:
    handlers = load_all_handlers()
    clients = {}
    for role, user in USERS.items():
        api = LambdaApi(handlers, claims=claims(user, groups=role))
        clients[role] = stack.enter_context(
            httpx.Client(transport=LambdaTransport(api), timeout=60)
        )
    s3 = deid.aws.s3

    def settle() -> None:
        deliver(deid, handlers["anonymize"])

    def corrupt(study: str, series: str, sop: str) -> None:
        s3.put_object(Bucket=BUCKET, Key=instance_key(study, series, sop), Body=b"\x00" * 64)

    def research_objects() -> dict[str, str]:
        listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="research/studies/")
        found = {}
        for item in listing.get("Contents", []):
            if item["Key"].endswith(".dcm"):
                body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
                found[item["Key"]] = hashlib.sha256(body).hexdigest()
        return found

    return Deployment(
        "lambda",
        f"https://{HOST}/{STAGE}",
        clients,
        settle,
        corrupt,
        research_objects,
        {"world": deid, "handlers": handlers},
    )

"""The smoke test through API Gateway's route table and the Lambda handlers on the AWS backend
(moto), with the claims the release-checks client's token carries: client credentials, the
read, write and delete scopes, no groups. ``/health`` answers there with the deployed commit."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cloudpacs import __version__
from cloudpacs.release_checks.failure import CheckFailed
from cloudpacs.release_checks.smoke import run_smoke
from tests.support.aws_world import AwsWorld, load_handlers
from tests.support.lambda_api import BASE_URL, LambdaApi, LambdaTransport
from tests.support.lambda_events import STAGE, claims

COMMIT = "c0ffee0123"
ALL_SCOPES = "cloudpacs/read cloudpacs/write cloudpacs/delete"


def release_checks_claims(scope: str = ALL_SCOPES) -> dict[str, str]:
    """What the Cognito authorizer passes for a client-credentials access token."""
    values = claims(username="release-checks")
    for person_claim in ("cognito:groups", "username", "cognito:username"):
        del values[person_claim]  # a client-credentials token names no user
    values.update(sub="7checks", client_id="7checks", scope=scope, token_use="access")
    return values


@pytest.fixture
def handlers(world: AwsWorld, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("CLOUDPACS_COMMIT", COMMIT)  # as the API stack sets it
    return load_handlers()


def test_smoke_passes_through_api_gateway_and_the_functions(handlers: dict[str, Any]) -> None:
    api = LambdaApi(handlers, claims=release_checks_claims())
    with httpx.Client(transport=LambdaTransport(api), base_url=BASE_URL + "/") as client:
        report = run_smoke(client)
    assert [step for step, _ in report.steps] == ["stow", "qido", "wado", "delete"]
    assert {function for function, _, _ in api.invocations} == {"stow", "qido", "wado"}


def test_without_the_delete_scope_the_smoke_test_fails_at_delete(
    handlers: dict[str, Any],
) -> None:
    api = LambdaApi(handlers, claims=release_checks_claims("cloudpacs/read cloudpacs/write"))
    with (
        httpx.Client(transport=LambdaTransport(api), base_url=BASE_URL + "/") as client,
        pytest.raises(CheckFailed, match=r"^delete: DELETE .* answered 403"),
    ):
        run_smoke(client)


def test_health_reports_the_deployed_version(handlers: dict[str, Any]) -> None:
    api = LambdaApi(handlers, claims=release_checks_claims())
    answer = api.invoke("GET", f"/{STAGE}/health")
    assert answer.status == 200, answer.body
    health = json.loads(answer.body)
    assert (health["version"], health["commit"], health["backend"]) == (__version__, COMMIT, "aws")

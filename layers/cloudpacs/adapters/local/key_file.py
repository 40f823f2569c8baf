"""The pseudonym secret of the embedded server: a file, created on first use.

``<data_dir>/deid.key`` holds 64 random URL-safe characters, created with mode 0600 (the
create is exclusive, so two processes starting at once agree on one key). A key file that
others may read is refused: whoever holds it can recompute every pseudonym. Losing the file
starts a new, unlinked pseudonym space, as rotating the secret in AWS would.
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
from pathlib import Path

KEY_CHARACTERS = 64


class KeyFileError(RuntimeError):
    """The key file is unsafe or unreadable."""


class KeyFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            if self._key is None:
                self._key = self._load_or_create()
            return self._key

    def _load_or_create(self) -> bytes:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._read()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48)[:KEY_CHARACTERS] + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return self._read()

    def _read(self) -> bytes:
        mode = self.path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(
                f"{self.path} may be read by other users (mode {stat.filemode(mode)}); "
                f"make it private: chmod 600 {self.path}"
            )
        key = self.path.read_text(encoding="ascii").strip().encode("ascii")
        if len(key) < 16:
            raise KeyFileError(f"{self.path} holds fewer than 16 characters")
        return key

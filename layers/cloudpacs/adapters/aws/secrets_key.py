"""The pseudonym secret in AWS: a Secrets Manager secret, read once per execution environment.

The stack generates the secret (a random string, encrypted with the stage's data key) and
grants ``secretsmanager:GetSecretValue`` on it to the anonymize function alone. Rotating it
would start a new, unlinked pseudonym space, so it is not rotated (docs/deidentification.md).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3

MIN_KEY_BYTES = 16


class SecretsManagerKey:
    def __init__(
        self, secret_id: str, *, client: Any | None = None, region_name: str | None = None
    ) -> None:
        self.secret_id = secret_id
        self._client = client or boto3.client("secretsmanager", region_name=region_name)
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            if self._key is None:
                value = self._client.get_secret_value(SecretId=self.secret_id)
                text = value.get("SecretString")
                if not isinstance(text, str) or len(text.encode()) < MIN_KEY_BYTES:
                    raise ValueError(
                        f"secret {self.secret_id} must hold a string of at least "
                        f"{MIN_KEY_BYTES} bytes"
                    )
                self._key = text.encode()
            return self._key

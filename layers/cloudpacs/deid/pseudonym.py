"""Keyed, deterministic pseudonyms: HMAC-SHA256 with a per-deployment secret.

Every replacement value is ``HMAC-SHA256(secret, purpose || 0x00 || original)``, so the
same original under the same secret always gives the same replacement (re-running a job, or
de-identifying a later study of the same patient, links up), a different secret gives
unrelated values, and nobody without the secret can recompute or reverse them.

==================== ===============================================================
what                 replacement
==================== ===============================================================
UID                  ``2.25.<n>``, n = first 128 bits of the MAC as an integer
                     (PS3.5 B.2: at most 39 digits, so at most 44 characters)
Patient ID           ``PSN`` + 20 base32 characters (100 bits of the MAC)
Patient's Name       ``PSEUDONYM^<Patient ID pseudonym>``: derived, so the two agree
date offset          a whole number of days in [-3652, -366], per patient: dates
                     move 1 to 10 years back; intervals within a patient are exact
==================== ===============================================================

The patient key is Issuer of Patient ID + Patient ID when Patient ID is present, else
Patient's Name + Birth Date; an instance with neither shares one "unknown patient" key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

MIN_SECRET_BYTES = 16
DATE_SHIFT_MIN_DAYS = 366
DATE_SHIFT_MAX_DAYS = 3652


class Pseudonymizer:
    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes | bytearray) or len(secret) < MIN_SECRET_BYTES:
            msg = f"the de-identification secret must be at least {MIN_SECRET_BYTES} bytes"
            raise ValueError(msg)
        self._secret = bytes(secret)
        self._uids: dict[str, str] = {}

    def _mac(self, purpose: str, value: str) -> bytes:
        message = purpose.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def uid(self, original: str) -> str:
        original = original.strip("\x00 ")
        found = self._uids.get(original)
        if found is None:
            found = "2.25." + str(int.from_bytes(self._mac("uid", original)[:16], "big"))
            self._uids[original] = found
        return found

    def patient_id(self, patient_key: str) -> str:
        code = base64.b32encode(self._mac("patient-id", patient_key)[:15]).decode("ascii")
        return "PSN" + code[:20]

    def patient_name(self, patient_key: str) -> str:
        return "PSEUDONYM^" + self.patient_id(patient_key)

    def date_offset_days(self, patient_key: str) -> int:
        span = DATE_SHIFT_MAX_DAYS - DATE_SHIFT_MIN_DAYS + 1
        n = int.from_bytes(self._mac("date-shift", patient_key)[:8], "big")
        return -(DATE_SHIFT_MIN_DAYS + n % span)


def patient_key(patient_id: str, issuer: str, name: str, birth_date: str) -> str:
    """The identity a patient's pseudonyms and date offset are derived from."""
    if patient_id.strip():
        return f"id\\{issuer.strip()}\\{patient_id.strip()}"
    if name.strip():
        return f"name\\{name.strip()}\\{birth_date.strip()}"
    return "unknown"

"""De-identification jobs: the records, the task message and the ports they use.

- ``ProfileSpec``: a preset plus option overrides, as an API request names them.
- ``DeidTask``: one unit of work on the queue: some instances of one study, the profile, and
  the job they belong to (None for automatic de-identification of ingested instances).
- ``JobRecord`` / ``InstanceResult`` / ``JobStatus``: what a job asked for, what became of
  each instance, and the state derived from both; ``QuarantineReport``: the instances the
  copy lacks because of their pixels, with a count per quarantine rule.
- Ports: ``JobLedger`` (job records and results: items in the index table in AWS, files
  locally), ``TaskQueue`` (SQS in AWS, the in-process worker locally) and ``KeySource`` (the
  pseudonym secret: Secrets Manager in AWS, a file locally).

docs/deidentification.md describes the API, the job states and the research store.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Protocol

from cloudpacs.deid.profile import Profile
from cloudpacs.security.events import EVENT_SOURCE, InstanceEventType
from cloudpacs.uids import is_valid_uid

TASK_KIND = "cloudpacs.deidentify"
TASK_VERSION = 1
_JOB_ID = re.compile(r"[0-9a-f]{32}")
OPTION_NAMES = tuple(f.name for f in fields(Profile) if f.name != "name")

AUTO_EVENT_PATTERN: Mapping[str, list[str]] = {
    "source": [EVENT_SOURCE],
    "detail-type": [InstanceEventType.STORED.value],
}
"""The EventBridge pattern routing stored instances to the anonymize queue (automatic mode)."""

KeySource = Callable[[], bytes]
"""Returns the per-deployment pseudonym secret (read once, then cached)."""


class InvalidTask(ValueError):
    """A queue message that is not a de-identification task (a poison message)."""


def is_job_id(value: str) -> bool:
    return _JOB_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class ProfileSpec:
    """A named preset (``Profile.PRESETS``) and options switched on or off on top of it."""

    preset: str
    options: Mapping[str, bool] = field(default_factory=dict)

    def build(self) -> Profile:
        """The profile; ``ValueError`` names an unknown preset or option or a conflict."""
        base = Profile.preset(self.preset)
        unknown = sorted(set(self.options) - set(OPTION_NAMES))
        if unknown:
            known = ", ".join(OPTION_NAMES)
            raise ValueError(f"unknown de-identification options: {', '.join(unknown)} ({known})")
        for name, value in self.options.items():
            if not isinstance(value, bool):
                raise ValueError(f"option {name!r} must be true or false")
        changed = {k: v for k, v in self.options.items() if getattr(base, k) != v}
        if not changed:
            return base
        label = self.preset + "".join(
            f"{'+' if on else '-'}{name}" for name, on in sorted(changed.items())
        )
        return replace(base, name=label, **changed)

    def to_json(self) -> dict[str, Any]:
        return {"preset": self.preset, "options": dict(self.options)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileSpec:
        return cls(str(data["preset"]), dict(data.get("options") or {}))


@dataclass(frozen=True)
class DeidTask:
    """De-identify ``instances`` (series UID, SOP Instance UID) of ``study`` into the research
    store; report to ``job`` when there is one."""

    study: str
    instances: tuple[tuple[str, str], ...]
    profile: ProfileSpec
    job: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": TASK_KIND,
                "version": TASK_VERSION,
                "job": self.job,
                "study": self.study,
                "instances": [list(pair) for pair in self.instances],
                "profile": self.profile.to_json(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> DeidTask:
        """The task in a decoded message body; ``InvalidTask`` when it is not one."""
        if body.get("kind") != TASK_KIND:
            raise InvalidTask("not a de-identification task")
        try:
            job = body.get("job")
            study = str(body["study"])
            instances = tuple((str(a), str(b)) for a, b in body["instances"])
            profile = ProfileSpec.from_json(body["profile"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidTask(f"malformed de-identification task: {exc!r}") from None
        uids = [study, *(uid for pair in instances for uid in pair)]
        if not all(is_valid_uid(uid) for uid in uids):
            raise InvalidTask("a de-identification task names an invalid UID")
        if job is not None and not (isinstance(job, str) and is_job_id(job)):
            raise InvalidTask("a de-identification task names an invalid job id")
        return cls(study, instances, profile, job)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    """Accepted; no instance has been processed yet."""
    RUNNING = "running"
    COMPLETED = "completed"
    """Every instance has a result and at least one was de-identified."""
    FAILED = "failed"
    """Every instance has a result and none was de-identified, or the job could not start."""


class Outcome(enum.StrEnum):
    DEIDENTIFIED = "deidentified"
    QUARANTINED = "quarantined"
    """Refused: the pixels may show identifying text (``rule`` says why)."""
    FAILED = "failed"
    """Not de-identified: unreadable, missing or not storable (``code`` says why)."""


@dataclass(frozen=True)
class InstanceResult:
    series_uid: str
    sop_uid: str
    outcome: Outcome
    code: str | None = None
    """A machine code: the quarantine rule, or ``not_found``, ``not_part10``, ..."""
    reason: str | None = None
    research_study_uid: str | None = None
    research_series_uid: str | None = None
    research_sop_uid: str | None = None
    stored: str | None = None
    """What the research store did: ``stored``, ``already-stored`` or ``replaced``."""
    pixel_rule: str | None = None
    """The pixel cleaning rule that cleaned the copy, or that matched a quarantined instance
    (Clean Pixel Data Option)."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InstanceResult:
        values = dict(data)
        values["outcome"] = Outcome(values["outcome"])
        return cls(**values)


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    study_uid: str
    profile: ProfileSpec
    profile_name: str
    total: int
    created_at: str
    expires_at: int
    """Epoch seconds after which the record and its results may be dropped."""
    owner: str | None = None
    error: str | None = None
    """Why the job could not start (its tasks could not be queued)."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["profile"] = self.profile.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobRecord:
        values = dict(data)
        values["profile"] = ProfileSpec.from_json(values["profile"])
        return cls(**values)


@dataclass(frozen=True)
class JobStatus:
    record: JobRecord
    results: tuple[InstanceResult, ...]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def state(self) -> JobState:
        if self.record.error is not None:
            return JobState.FAILED
        if not self.results:
            return JobState.QUEUED
        if len(self.results) < self.record.total:
            return JobState.RUNNING
        return JobState.COMPLETED if self.count(Outcome.DEIDENTIFIED) else JobState.FAILED

    def quarantine_report(self) -> QuarantineReport:
        """Which instances were refused, by which rule, and how many per rule."""
        refused = tuple(
            sorted(
                (r for r in self.results if r.outcome is Outcome.QUARANTINED),
                key=lambda r: (r.series_uid, r.sop_uid),
            )
        )
        return QuarantineReport(refused)

    @property
    def research_study_uid(self) -> str | None:
        for result in self.results:
            if result.research_study_uid:
                return result.research_study_uid
        return None


@dataclass(frozen=True)
class QuarantineReport:
    """What a job's copy lacks because of the pixels: the quarantined instances and a count
    per quarantine rule (docs/deidentification.md, Quarantine)."""

    instances: tuple[InstanceResult, ...]

    @property
    def by_rule(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.instances:
            code = result.code or "unknown"
            counts[code] = counts.get(code, 0) + 1
        return dict(sorted(counts.items()))


class JobLedger(Protocol):
    def create(self, record: JobRecord) -> None:
        """Record a new job (its id is new)."""

    def get(self, job_id: str) -> JobStatus | None:
        """The job and every result recorded so far (strongly consistent)."""

    def record(self, job_id: str, results: Sequence[InstanceResult]) -> None:
        """Write results, one per SOP Instance UID: a repeated result overwrites the earlier."""

    def fail(self, job_id: str, error: str) -> None:
        """Mark a job that could not start."""


class TaskQueue(Protocol):
    def send(self, tasks: Sequence[DeidTask]) -> None:
        """Hand every task to the worker; raise if any could not be queued."""

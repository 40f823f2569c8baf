"""Wiring of de-identification jobs and the worker (``cloudpacs.wiring.research`` decides
where they run): the job ledger, the pseudonym key, the task queue and the pixel cleaning
rules on the configured backend."""

from __future__ import annotations

from cloudpacs.deid.pixel_clean import PixelCleaning, TextDetector
from cloudpacs.services.deid_jobs import DeidJobs, auto_deidentify
from cloudpacs.services.deid_model import JobLedger, KeySource, ProfileSpec, TaskQueue
from cloudpacs.services.deid_worker import DeidWorker
from cloudpacs.settings import Settings
from cloudpacs.wiring.services import Services


def attach_jobs_and_worker(services: Services) -> None:
    """The worker where the research store and the key are, jobs where a task queue is, and
    the auto mode hook locally (``cloudpacs.wiring.research`` says which process has which)."""
    settings = services.settings
    ledger = _ledger(settings)
    key = _key(settings)
    if services.research is not None and key is not None:
        services.deid_worker = DeidWorker(
            services.index,
            services.blobs,
            services.research.ingest,
            ledger,
            key,
            pixels=_pixel_cleaning(settings),
            audit=services.audit,
        )
    queue = _queue(settings, services.deid_worker)
    services.deid_queue = queue
    if queue is None:
        return
    services.deid_jobs = DeidJobs(
        services.index, ledger, queue, record_days=settings.job_record_days
    )
    profile = settings.auto_deidentify_profile
    if profile and settings.backend != "aws":
        services.ingest.on_stored.append(auto_deidentify(queue, ProfileSpec(profile)))


def _pixel_cleaning(settings: Settings) -> PixelCleaning:
    detector: TextDetector | None = None
    if settings.deid_text_detector:
        from cloudpacs.deid.text_detector import OcrTextDetector

        detector = OcrTextDetector()
    return PixelCleaning(settings.pixel_rules(), detector)


def _ledger(settings: Settings) -> JobLedger:
    if settings.backend == "aws":
        from cloudpacs.adapters.aws.dynamo_jobs import DynamoJobLedger

        assert settings.table_name
        return DynamoJobLedger(settings.table_name, record_days=settings.job_record_days)
    from cloudpacs.adapters.local.file_jobs import FileJobLedger

    return FileJobLedger(settings.data_dir / "jobs")


def _key(settings: Settings) -> KeySource | None:
    if settings.backend == "aws":
        if not settings.deid_secret_id:
            return None
        from cloudpacs.adapters.aws.secrets_key import SecretsManagerKey

        return SecretsManagerKey(settings.deid_secret_id, region_name=settings.aws_region)
    from cloudpacs.adapters.local.key_file import KeyFile

    return KeyFile(settings.deid_key_path)


def _queue(settings: Settings, worker: DeidWorker | None) -> TaskQueue | None:
    if settings.backend == "aws":
        if not settings.deid_queue_url:
            return None
        from cloudpacs.adapters.aws.sqs_tasks import SqsTaskQueue

        return SqsTaskQueue(settings.deid_queue_url, region_name=settings.aws_region)
    if worker is None:
        return None
    from cloudpacs.adapters.local.task_queue import LocalTaskQueue

    return LocalTaskQueue(worker, max_receives=settings.deid_max_receives)

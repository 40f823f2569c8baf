"""The anonymize function: de-identification tasks from SQS (DESIGN.md §2).

Each SQS record carries one message, either

- a task (``DeidTask``) queued by ``POST .../studies/{study}/deidentify``: some instances of a
  study, the profile and the job to report to; or
- an ``InstanceStored`` event of the stage's EventBridge bus (source ``cloudpacs``), routed to
  the queue by the stack when the stage de-identifies automatically: one instance, with the
  preset of ``CLOUDPACS_AUTO_DEIDENTIFY_PROFILE`` and no job.

Records are handled one by one with Powertools' ``BatchProcessor`` and the function answers
with ``batchItemFailures``, so only failed messages come back. What counts as a failure:

- a body that is neither (a poison message): fails every time and ends in the dead-letter
  queue after ``deid_max_receives`` deliveries;
- a server-side fault on some instance: the message fails and is delivered again; on its last
  delivery the worker records the fault as that instance's result instead, so a job completes;
- a quarantined or corrupt instance: not a failure of the message; the job's result says why.

The pseudonym secret is read from Secrets Manager once, when the function starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cloudpacs.aws_lambda.env import function_settings
from cloudpacs.observability import instrument, logger
from cloudpacs.runtime import build_services
from cloudpacs.security.events import EVENT_SOURCE, InstanceEvent, InstanceEventType
from cloudpacs.services.deid_model import TASK_KIND, DeidTask, InvalidTask, ProfileSpec
from cloudpacs.services.deid_worker import DeidWorker

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def tasks_in_message(body: str, *, auto_profile: str | None) -> list[DeidTask]:
    """The task an SQS message body carries; ``InvalidTask`` for anything else."""
    try:
        message = json.loads(body)
    except ValueError:
        raise InvalidTask("the message body is not JSON") from None
    if not isinstance(message, dict):
        raise InvalidTask("the message body is not a JSON object")
    if message.get("kind") == TASK_KIND:
        return [DeidTask.from_json(message)]
    if message.get("source") == EVENT_SOURCE and "detail-type" in message:
        if message["detail-type"] != InstanceEventType.STORED.value:
            return []
        if auto_profile is None:
            raise InvalidTask("an InstanceStored event, but automatic de-identification is off")
        try:
            event = InstanceEvent.from_detail(message["detail"])
        except (KeyError, TypeError, ValueError):
            raise InvalidTask("a malformed InstanceStored event") from None
        instance = (event.series_uid, event.sop_uid)
        return [DeidTask(event.study_uid, (instance,), ProfileSpec(auto_profile))]
    raise InvalidTask("the message is neither a de-identification task nor a cloudpacs event")


def anonymize_handler() -> Handler:
    """The SQS batch handler of the anonymize function (built once, at cold start)."""
    settings = function_settings("anonymize", "research_table_name", "deid_secret_id")
    services = build_services(settings)
    instrument(services)
    worker = services.deid_worker
    assert worker is not None
    worker.key()  # read the secret now: once per execution environment
    return sqs_batch_handler(
        worker,
        auto_profile=settings.auto_deidentify_profile,
        max_receives=settings.deid_max_receives,
    )


def sqs_batch_handler(
    worker: DeidWorker, *, auto_profile: str | None, max_receives: int
) -> Handler:
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        attempt = int(record.attributes.approximate_receive_count or 1)
        for task in tasks_in_message(record.body, auto_profile=auto_profile):
            results = worker.process(task, final=attempt >= max_receives)
            logger.info(
                "job %s: %d instance(s) of study %s processed",
                task.job or "auto",
                len(results),
                task.study,
            )

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        return dict(response)

    return handle

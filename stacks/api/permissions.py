"""Least-privilege grants, spelled out action by action.

CDK's ``grant_read``/``grant_write`` helpers hand out action wildcards (``s3:GetObject*``,
``s3:List*``, ``kms:GenerateDataKey*``). Here each function gets the exact API actions its code
calls, on the narrowest resources: object actions on key prefixes, index reads on the table and
its indexes, KMS use on the one key that protects the data it touches. Where a resource must end
in a wildcard (objects under a prefix, a table's indexes, a log group's streams), the grant
acknowledges that cdk-nag finding on the spot, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_

from stacks.acknowledge import acknowledge
from stacks.names import NAG_PARTITION, StageNames, nag_resource

STUDIES = "studies/*"
SERIES_METADATA = "studies/*/series/*/metadata.json"
THUMBNAILS = "studies/*/series/*/thumbnails/*"
"""Cached thumbnails kept next to each series' objects (services.thumbnails)."""
RESPONSES = "responses/*"
"""Assembled WADO responses (decision 0001), expired by the data bucket's lifecycle."""
RESEARCH = "research/"
"""The de-identified research copy in the same bucket: its objects, metadata cache
and assembled responses under this prefix, granted apart from the archive's."""
JOB_ITEMS = "JOB#*"
"""Partition keys of de-identification jobs in the index table (``dynamo_jobs``)."""

INDEX_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]
INDEX_WRITE = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]
KEY_DECRYPT = ["kms:Decrypt", "kms:DescribeKey"]
KEY_ENCRYPT = ["kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
LOG_APPEND = ["logs:CreateLogStream", "logs:PutLogEvents"]


def log_group_arn(names: StageNames, log_group: str, *, partition: str = Aws.PARTITION) -> str:
    """The ARN covering a log group's streams (``...:log-group:<name>:*``)."""
    return f"arn:{partition}:logs:{names.region}:{names.account}:log-group:{log_group}:*"


class Grants:
    """The permissions of one function's role."""

    def __init__(self, function: lambda_.IFunction, names: StageNames) -> None:
        self.function = function
        self.names = names

    def _allow(
        self,
        actions: Sequence[str],
        resources: Sequence[str],
        conditions: dict[str, object] | None = None,
    ) -> None:
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(actions), resources=list(resources), conditions=conditions
            )
        )

    def _acknowledge_wildcard(self, nag_arn: str, reason: str) -> None:
        role = self.function.role
        if role is None:
            raise ValueError("grants need the function's role")
        acknowledge(role, nag_resource(nag_arn), reason)

    def index_read(self, table: str | None = None) -> None:
        """Reads of the archive's index, or of ``table`` (the research copy's)."""
        names = self.names
        self._allow(
            INDEX_READ, [names.table_arn(table=table), names.table_arn("/index/*", table=table)]
        )
        self._acknowledge_wildcard(
            names.table_arn("/index/*", partition=NAG_PARTITION, table=table),
            "The index table's global secondary indexes (by patient, accession, name, date, "
            "UID); read-only actions, this one table.",
        )

    def index_write(self, table: str | None = None) -> None:
        self._allow(INDEX_WRITE, [self.names.table_arn(table=table)])

    def index_items(self, actions: Sequence[str], partition_keys: str) -> None:
        """``actions`` on the archive's index, only on items whose partition key matches."""
        self._allow(
            actions,
            [self.names.table_arn()],
            {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [partition_keys]}},
        )

    def send_messages(self, queue_arn: str, key: kms.IKey) -> None:
        """Send to one queue, encrypting with its key."""
        self._allow(["sqs:SendMessage"], [queue_arn])
        self._allow(["kms:GenerateDataKey", "kms:Decrypt"], [key.key_arn])

    def read_secret(self, secret_arn: str) -> None:
        self._allow(["secretsmanager:GetSecretValue"], [secret_arn])

    def key_use(self, key: kms.IKey, *, encrypt: bool) -> None:
        self._allow(KEY_DECRYPT + (KEY_ENCRYPT if encrypt else []), [key.key_arn])

    def objects(self, bucket: str, actions: Sequence[str], pattern: str, reason: str) -> None:
        self._allow(actions, [StageNames.bucket_arn(bucket, pattern)])
        if "*" in pattern:
            nag_arn = StageNames.bucket_arn(bucket, pattern, partition=NAG_PARTITION)
            self._acknowledge_wildcard(nag_arn, reason)

    def list_prefix(self, bucket: str, prefix: str) -> None:
        self._allow(
            ["s3:ListBucket"],
            [StageNames.bucket_arn(bucket)],
            {"StringLike": {"s3:prefix": [prefix]}},
        )

    def append_logs(self, log_group: str, reason: str) -> None:
        """Append-only: create a stream and put events, never read, change or delete."""
        self._allow(LOG_APPEND, [log_group_arn(self.names, log_group)])
        self._acknowledge_wildcard(
            log_group_arn(self.names, log_group, partition=NAG_PARTITION), reason
        )

    def publish_events(self, bus_arn: str) -> None:
        self._allow(["events:PutEvents"], [bus_arn])

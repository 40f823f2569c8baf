"""The bridge task's role: exactly what the bridge calls, like the functions' grants
(`stacks.api.permissions`), and nothing the DIMSE services cannot do.

| resource | actions | why |
| --- | --- | --- |
| index table and its indexes | read, write | C-FIND, C-MOVE/C-GET lookups; C-STORE indexes |
| DICOM objects ``studies/*`` | get, put | C-STORE stores as received; C-GET/C-MOVE read |
| data key | decrypt, encrypt | objects and index are encrypted with it |
| audit log group | create stream, put events | append only |
| event bus | put events | change events after each store |

DIMSE has no delete, so the role has no ``s3:DeleteObject`` and cannot list the bucket.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.api import permissions as allow
from stacks.names import NAG_PARTITION, StageNames, nag_resource

OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject"]


def task_role(scope: Construct, construct_id: str, *, stage: str) -> iam.Role:
    """A role only ECS tasks of this account can assume (no confused deputy)."""
    stack = Stack.of(scope)
    principal = iam.ServicePrincipal(
        "ecs-tasks.amazonaws.com",
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": f"arn:{stack.partition}:ecs:{stack.region}:{stack.account}:*"
            },
        },
    )
    return iam.Role(
        scope, construct_id, assumed_by=principal, description=f"cloudpacs {stage} DIMSE bridge"
    )


class TaskGrants:
    def __init__(self, role: iam.Role, names: StageNames) -> None:
        self.role = role
        self.names = names

    def _allow(self, actions: Sequence[str], resources: Sequence[str]) -> None:
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=list(resources))
        )

    def index(self) -> None:
        names = self.names
        self._allow(allow.INDEX_READ, [names.table_arn(), names.table_arn("/index/*")])
        self._allow(allow.INDEX_WRITE, [names.table_arn()])
        acknowledge(
            self.role,
            nag_resource(names.table_arn("/index/*", partition=NAG_PARTITION)),
            "The index table's global secondary indexes, which C-FIND and the retrieve "
            "lookups query; read-only actions, this one table.",
        )

    def objects(self) -> None:
        bucket = self.names.dicom_bucket
        self._allow(OBJECT_ACTIONS, [StageNames.bucket_arn(bucket, allow.STUDIES)])
        acknowledge(
            self.role,
            nag_resource(StageNames.bucket_arn(bucket, allow.STUDIES, partition=NAG_PARTITION)),
            "DICOM objects under studies/: C-STORE writes one key per instance UID as "
            "received, C-GET and C-MOVE read them; no delete, no listing.",
        )

    def key_use(self, key: kms.IKey) -> None:
        self._allow(allow.KEY_DECRYPT + allow.KEY_ENCRYPT, [key.key_arn])

    def audit(self, log_group: str) -> None:
        self._allow(allow.LOG_APPEND, [allow.log_group_arn(self.names, log_group)])
        acknowledge(
            self.role,
            nag_resource(allow.log_group_arn(self.names, log_group, partition=NAG_PARTITION)),
            "Streams of the audit log group; append only (no read, no delete).",
        )

    def publish_events(self, bus_arn: str) -> None:
        self._allow(["events:PutEvents"], [bus_arn])

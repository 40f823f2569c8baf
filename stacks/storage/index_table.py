"""The DynamoDB index, built from the layout the AWS adapter uses (DESIGN.md §4).

Keys and indexes come from ``cloudpacs.adapters.aws.table_schema.create_table_kwargs``, so the
table that tests create under moto and the one deployed here cannot drift apart. On-demand
capacity, encrypted with the stage's data key, point-in-time recovery on.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from cloudpacs.adapters.aws.table_schema import TTL_ATTRIBUTE, create_table_kwargs

PITR_MAX_DAYS = 35
_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "ALL": dynamodb.ProjectionType.ALL,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


def _key(schema: list[dict[str, str]], kind: str, types: dict[str, str]) -> Any:
    for element in schema:
        if element["KeyType"] == kind:
            name = element["AttributeName"]
            return dynamodb.Attribute(name=name, type=_TYPES[types[name]])
    return None


class IndexTable(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table_name: str,
        key: kms.IKey,
        recovery_days: int,
        deletion_protection: bool,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        layout = create_table_kwargs(table_name)
        if layout["BillingMode"] != "PAY_PER_REQUEST":
            raise ValueError("the index is deployed on-demand; table_schema says otherwise")
        types = {a["AttributeName"]: a["AttributeType"] for a in layout["AttributeDefinitions"]}
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=layout["TableName"],
            partition_key=_key(layout["KeySchema"], "HASH", types),
            sort_key=_key(layout["KeySchema"], "RANGE", types),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True,
                recovery_period_in_days=min(recovery_days, PITR_MAX_DAYS),
            ),
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            # Upload records expire (cloudpacs.adapters.aws.dynamo_uploads).
            time_to_live_attribute=TTL_ATTRIBUTE,
        )
        for index in layout["GlobalSecondaryIndexes"]:
            projection = index["Projection"]
            self.table.add_global_secondary_index(
                index_name=index["IndexName"],
                partition_key=_key(index["KeySchema"], "HASH", types),
                sort_key=_key(index["KeySchema"], "RANGE", types),
                projection_type=_PROJECTIONS[projection["ProjectionType"]],
                non_key_attributes=projection.get("NonKeyAttributes"),
            )

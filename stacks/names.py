"""Physical names and ARNs of a stage's data resources, known before anything is deployed.

The storage stack creates the table and buckets under these names; the API stack builds its
grants and environment from the same names instead of importing them from the storage stack.
Operators find resources by name, the IAM policies read as plain ARNs, and cdk-nag findings on
those ARNs can be acknowledged exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws

NAG_PARTITION = "<AWS::Partition>"


@dataclass(frozen=True)
class StageNames:
    stage: str
    account: str
    region: str

    @property
    def table(self) -> str:
        return f"cloudpacs-{self.stage}-index"

    @property
    def research_table(self) -> str:
        """The research store's index: the de-identified copies (docs/deidentification.md)."""
        return f"cloudpacs-{self.stage}-research"

    @property
    def deid_secret(self) -> str:
        """The Secrets Manager secret keying the pseudonyms of the research copies."""
        return f"cloudpacs/{self.stage}/deid-key"

    @property
    def event_bus(self) -> str:
        """The stage's EventBridge bus (made by the API stack)."""
        return f"cloudpacs-{self.stage}"

    @property
    def dicom_bucket(self) -> str:
        return f"cloudpacs-{self.stage}-dicom-{self.account}-{self.region}"

    @property
    def viewer_bucket(self) -> str:
        """The OHIF viewer's files (``stacks.viewer``): no patient data."""
        return f"cloudpacs-{self.stage}-viewer-{self.account}-{self.region}"

    @property
    def inbox_bucket(self) -> str:
        return f"cloudpacs-{self.stage}-inbox-{self.account}-{self.region}"

    def table_arn(
        self, suffix: str = "", *, partition: str = Aws.PARTITION, table: str | None = None
    ) -> str:
        name = table or self.table
        return f"arn:{partition}:dynamodb:{self.region}:{self.account}:table/{name}{suffix}"

    @staticmethod
    def bucket_arn(
        bucket: str, pattern: str | None = None, *, partition: str = Aws.PARTITION
    ) -> str:
        return f"arn:{partition}:s3:::{bucket}" + (f"/{pattern}" if pattern is not None else "")


def nag_resource(arn_with_nag_partition: str) -> str:
    """The finding id cdk-nag gives a wildcard resource (``AwsSolutions-IAM5[Resource::...]``)."""
    return f"AwsSolutions-IAM5[Resource::{arn_with_nag_partition}]"

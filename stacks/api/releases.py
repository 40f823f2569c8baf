"""How a new version of the API functions goes live, and how it is rolled back.

Every function behind the REST API is published as a version with each change and served
through its ``live`` alias; API Gateway invokes the alias, never ``$LATEST``. CodeDeploy moves
the alias to the new version: ``canary`` (production) sends 10 % of requests to it for
15 minutes, then all; ``all_at_once`` moves it at once. During the shift CodeDeploy watches the
API's 5xx and latency alarms (`stacks.monitoring.api_alarms`) and moves the alias back to the
previous version when one fires, and when the deployment fails or is stopped; the
CloudFormation update of the API stack then fails and rolls back too. The canary lasts as long
as the longest alarm window (latency: three 5-minute periods), so each alarm has seen a full
window of the new version's requests before it takes all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.acknowledge import acknowledge

LIVE_ALIAS = "live"
DEPLOYMENT_CONFIGS = {
    "canary": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_15_MINUTES,
    "all_at_once": codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
}


class LiveAliases(Construct):
    """The ``live`` alias of each function and its CodeDeploy deployment group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        functions: Mapping[str, lambda_.Function],
        deployment: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stage, self._config = stage, DEPLOYMENT_CONFIGS[deployment]
        self.aliases: dict[str, lambda_.Alias] = {
            name: lambda_.Alias(
                self,
                f"{name.capitalize()}Live",
                alias_name=LIVE_ALIAS,
                version=function.current_version,
                description=f"The version of {name} the API serves",
            )
            for name, function in functions.items()
        }
        self.groups: dict[str, codedeploy.LambdaDeploymentGroup] = {}

    def roll_back_on(self, alarms: Sequence[cw.IAlarm]) -> None:
        """One deployment group per alias, rolled back when one of ``alarms`` fires."""
        stage = self._stage
        self.application = codedeploy.LambdaApplication(
            self, "Application", application_name=f"cloudpacs-{stage}-api"
        )
        for name, alias in self.aliases.items():
            self.groups[name] = codedeploy.LambdaDeploymentGroup(
                self,
                f"{name.capitalize()}Deployment",
                application=self.application,
                deployment_group_name=f"cloudpacs-{stage}-{name}",
                alias=alias,
                deployment_config=self._config,
                alarms=list(alarms),
                auto_rollback=codedeploy.AutoRollbackConfig(
                    failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
                ),
            )
            acknowledge(
                self.groups[name],
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSCodeDeployRoleForLambdaLimited]",
                "CodeDeploy's own role for Lambda deployments: AWS maintains this policy to "
                "update aliases and read the watched alarms, and nothing else.",
            )

"""The WAF web ACL in front of the API: a per-IP rate limit and AWS managed rule sets.

The common rule set's body-size rule is set to count: DICOM bodies are large by design (the API
accepts what Lambda can carry, DESIGN.md §5). WAF logs go to an encrypted log group with the
``Authorization`` header redacted, so tokens never reach the logs.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stacks.log_retention import retention

MANAGED_RULE_GROUPS = {
    "AWSManagedRulesAmazonIpReputationList": (),
    "AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",),
    "AWSManagedRulesKnownBadInputsRuleSet": (),
}


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


class ApiFirewall(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        stage_arn: str,
        rate_limit: int,
        log_key: kms.IKey,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerIp",
                priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit, aggregate_key_type="IP"
                    )
                ),
                visibility_config=_visibility("RateLimitPerIp"),
            )
        ]
        for priority, (group, counted) in enumerate(MANAGED_RULE_GROUPS.items(), start=1):
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name=group,
                    priority=priority,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS",
                            name=group,
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name=rule,
                                    action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                                )
                                for rule in counted
                            ]
                            or None,
                        )
                    ),
                    visibility_config=_visibility(group),
                )
            )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"cloudpacs-{stage}-api",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=_visibility(f"cloudpacs-{stage}-api"),
        )
        wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
        # WAF requires the log group name to start with aws-waf-logs-.
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"aws-waf-logs-cloudpacs-{stage}",
            encryption_key=log_key,
            retention=retention(log_retention_days),
            removal_policy=removal_policy,
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            # WAF wants the bare log group ARN, without the ":*" that log_group_arn ends in.
            log_destination_configs=[
                Stack.of(self).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=self.log_group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(
                    single_header={"Name": "authorization"}
                )
            ],
        )

"""API: the REST API with its Cognito authorizer and WAF, the Lambda functions and their layer."""

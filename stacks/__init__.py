"""CDK stacks of cloudpacs, each composed of small constructs; stage differences arrive as
keyword-only arguments from the stage settings (`cdk_app.settings`)."""

"""The CDK app of cloudpacs: one CDK Stage per configured deployment stage (dev, staging, prod)."""

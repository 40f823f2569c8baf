"""Storage: KMS keys, the object and inbox buckets, the DynamoDB index, backups, audit log."""

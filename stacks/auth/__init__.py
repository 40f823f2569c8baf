"""Auth: the Cognito user pool, its role groups, its OAuth scopes and app clients."""

"""DIMSE: the bridge's VPC, its Fargate service and the network load balancer modalities reach."""

"""The delivery pipeline (CDK Pipelines) and the scripts its steps run."""

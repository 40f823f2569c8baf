"""The scheduled retention job of a stage (`stacks.retention.stack`)."""

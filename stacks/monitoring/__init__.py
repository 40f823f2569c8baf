"""Monitoring: the stage dashboard, the alarms an on-call engineer acts on, and their topic."""

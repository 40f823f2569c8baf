"""What runs only inside AWS Lambda: the settings of a function, the Mangum-wrapped HTTP app,
and the SQS-fed ingest and anonymize handlers behind ``functions/*/handler.py``.

Nothing outside this package and ``functions/`` imports it: the local server, the DIMSE
bridge and the services run without Lambda.
"""

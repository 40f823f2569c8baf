"""The cloudpacs client: ``cloudpacs push``, ``pull`` and ``find`` against any DICOMweb root
(the local server, a deployed stage, another archive), with retries, refreshed tokens and
progress. Plain HTTP (httpx), so it needs nothing of the server side."""

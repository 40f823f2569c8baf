"""Release checks: the smoke test, the bounded load test and their cleanup, run by the delivery
pipeline against a deployed stage and usable against any DICOMweb root, the local server
included (``cloudpacs smoke``, ``cloudpacs load``, ``cloudpacs cleanup-checks``)."""

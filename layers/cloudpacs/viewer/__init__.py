"""The OHIF viewer that ships with cloudpacs: its pinned npm package, its fetched copy and the
configuration that points it at a DICOMweb root (local server and the AWS viewer stack)."""

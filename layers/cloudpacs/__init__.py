"""cloudpacs: a DICOMweb PACS core with an AWS and an embedded backend."""

__version__ = "0.1.0"

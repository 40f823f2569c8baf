"""The DIMSE bridge: classic DICOM networking (C-ECHO, C-STORE, C-FIND, C-MOVE, C-GET) on the
same cloudpacs services as DICOMweb (DESIGN.md §2). pynetdicom is used here and nowhere else.
"""

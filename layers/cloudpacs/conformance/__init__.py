"""The DICOM Conformance Statement (PS3.2), generated from the code's own tables.

``facts`` reads what the HTTP side serves (routes, QIDO-RS attributes and matching, roles,
limits, STOW-RS statuses, transfer syntaxes), ``dimse_bridge.conformance`` what the bridge
negotiates, and ``statement`` lays both out in PS3.2's order. ``cloudpacs conformance``
writes ``docs/conformance-statement.md``; a test fails when the committed file and the code
differ.
"""

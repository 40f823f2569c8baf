"""How the services are put together on a backend: the ``Services`` bundle and the parts
``cloudpacs.runtime`` attaches to it (large objects, de-identification).

Modules here import ``wiring.services`` and never ``cloudpacs.runtime``, which imports them:
the composition root sits on top, so no import goes in a circle.
"""

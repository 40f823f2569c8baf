"""IOD checks on ingest (PS3.3 Annex A): is each attribute that a mandatory module of the
object's IOD requires there? Off by default (``CLOUDPACS_VALIDATION``): an archive stores what
modalities send; ``warn`` stores and says what is missing, ``reject`` refuses."""

"""Beamline ingestion: pyicat-plus messages from a STOMP broker, and store-and-forward for direct pushes."""

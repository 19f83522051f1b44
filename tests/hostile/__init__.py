"""Hostile uploads against POST /api/ingest/{slot_id} (issue 19): a fixed corpus
made by code, the same through a real socket where the wire matters, and
hypothesis-made mutations of a booth's body."""

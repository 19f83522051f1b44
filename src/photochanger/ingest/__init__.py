"""The booth-facing door: `POST /api/ingest/{slot_id}` (SPEC §3)."""

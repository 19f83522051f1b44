"""Statistics over the job log (SPEC §6.6)."""

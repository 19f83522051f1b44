"""The public gallery an admin shares for a few minutes (SPEC §6.7)."""

"""Job records (SPEC §3.4, §6.4)."""

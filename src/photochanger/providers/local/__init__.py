"""The built-in offline provider (SPEC §4.2)."""

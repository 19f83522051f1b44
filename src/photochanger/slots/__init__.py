"""The 15 fixed slots (SPEC §2, §6.2)."""

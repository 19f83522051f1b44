"""Admin accounts, login and the admin token (SPEC §6.1)."""

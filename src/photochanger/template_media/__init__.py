"""Admin-uploaded template images and their binding to slots (SPEC §6.3)."""

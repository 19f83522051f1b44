"""Runtime settings an admin changes (SPEC §6.5), stored in the database."""

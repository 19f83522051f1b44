"""Deleting expired media (SPEC §5.3): one service behind the CLI, the server's
periodic task and the admin routes."""

"""Fault injection: the database, the disk, the providers and the process itself failing."""

"""`photochanger backup DEST` and `photochanger restore SRC` (docs/operations.md#backups):
a consistent copy of the database, taken while the server keeps serving, the media
beside it, and a manifest with the schema revision, row counts and checksums."""

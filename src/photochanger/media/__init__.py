"""The media store and the public result downloads (SPEC §5)."""

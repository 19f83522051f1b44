"""Image-editing backends behind one Protocol (SPEC §4.1)."""

"""PhotoChanger: the backend behind a photo booth's upload URL."""

__version__ = "0.1.0"

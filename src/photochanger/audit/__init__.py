"""The audit trail of admin changes."""

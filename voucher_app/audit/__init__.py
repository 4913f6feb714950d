"""The audit trail of bureau actions: who did what to which thing, when, and how it ended."""

"""tapes package."""

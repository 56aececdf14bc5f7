"""specs package."""

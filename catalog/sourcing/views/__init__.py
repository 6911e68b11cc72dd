"""Sourcing's staff pages: keyword and picture search, and image search in batches."""

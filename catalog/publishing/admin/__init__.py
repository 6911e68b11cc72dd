"""Batch upload in the admin: batches and items, and the admin's import of items."""

"""Batch upload's staff pages: batches and their items, and importing a file into a batch."""

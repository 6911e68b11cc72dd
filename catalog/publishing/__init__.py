"""Batch upload (批量上货): staging items against the category schema, importing sheets, validating,
and the upload job."""

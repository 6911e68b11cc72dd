"""The mirrored catalog's staff pages: the product list and pages, and the change log."""

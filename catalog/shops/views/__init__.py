"""Shops' staff pages: the shops page and dashboard, and connecting a shop (OAuth)."""

"""The imitated 1688 world: the SQLite store, the category tree, generated offers and pictures,
seeding and the offer queries. Knows nothing of HTTP routing or of the APIs."""

"""Watching suppliers' offers: the watch list, buyer-side reads, 1688 message push, a supplier's
store."""

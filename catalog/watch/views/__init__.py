"""Watching suppliers' staff pages: the watch list, a watched offer, a supplier's store, and
the 1688 push endpoint."""

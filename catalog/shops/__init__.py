"""Shops: connecting a 1688 shop (OAuth), its tokens and clients, its health, and queuing its
sync."""

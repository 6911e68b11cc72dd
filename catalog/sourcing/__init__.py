"""Sourcing on 1688 as a buyer: keyword and picture search, image search in batches, staging found
offers."""

"""The mirror of each shop's 1688 catalog as staff read it: products, SKUs, the price/stock change
log."""

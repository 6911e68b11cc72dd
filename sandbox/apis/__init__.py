"""The 1688 APIs, one module per family as 1688 names them, and what they share (parameter
parsing, offer input, answer-shape switches). They read and change the world; the server
routes calls to them."""

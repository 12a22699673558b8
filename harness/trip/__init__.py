"""One round trip: the page steps, the comparison with the golden, TF.js's own rewrites."""

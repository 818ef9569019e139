"""Turn database dicts into response bodies, per microversion."""

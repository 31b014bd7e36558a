"""Tools for recipe authors: scaffold, record, scrub, live checks, embedded tests, pytest plugin."""

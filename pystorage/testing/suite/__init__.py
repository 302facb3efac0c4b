"""The behaviour suite: one set of tests against the public API, run for every service case."""

"""The connector runtime: moves records from a source through its mapping to the log."""

"""Sources: each knows how to read one kind of department system."""

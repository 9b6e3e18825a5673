"""Job types: the code that knows how to do one kind of work."""

"""The operator web page of `director serve`: server-rendered HTML over the services."""

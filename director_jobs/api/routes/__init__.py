"""One router per resource; each handler parses, calls a service, returns a JSON shape."""

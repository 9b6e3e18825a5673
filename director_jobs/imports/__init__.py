"""Import sources: providers (CSV, JSON, SQL), modifiers, checksummed import runs, definitions."""

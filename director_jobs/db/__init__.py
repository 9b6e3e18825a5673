"""Database access: schema, engine, migrations and repositories (SQLAlchemy Core)."""

"""Alembic migrations of the read model (a package so a wheel ships them)."""

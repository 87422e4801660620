"""Persistence: SQLAlchemy 2 async rows, repositories and Alembic migrations."""

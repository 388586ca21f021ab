"""Storage: SQLAlchemy 2.0 models, engine/session, repositories, Alembic migrations."""

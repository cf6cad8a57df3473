"""Alembic environment: migrations run on the connection `store.migrate` hands over."""
from __future__ import annotations

from alembic import context

from surveydata.fieldwork.store import metadata

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

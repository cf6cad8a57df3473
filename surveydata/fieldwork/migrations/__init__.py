"""Alembic migrations of the fieldwork database (run by `surveydata.fieldwork.store.open_store`)."""

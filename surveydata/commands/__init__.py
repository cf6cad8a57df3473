"""Subcommands of the ``surveydata`` command line, one module each (see `surveydata.cli`).

Every ``surveydata`` call imports every command module (to register its options), so a command
module imports at the top only what the ingestion layer already loads (schemas, pandas,
validation, outputs, archive formats). The fieldwork stack (SQLAlchemy, Starlette, uvicorn), the
report builder and the platform readers that need them are imported inside the function that
runs the command, each marked ``# noqa: PLC0415 - lazy (commands/__init__)``; they import no
command module, so these imports hide no cycle (tests/test_import_cycles.py checks it).
Errors: `surveydata.errors.UserError`, caught once by `surveydata.cli.main`.
"""

"""Subcommands of the ``surveydata`` command line, one module each (see `surveydata.cli`)."""

"""Fieldwork: collect responses from the study declaration (see surveydata/fieldwork/README in the module docstrings)."""

"""surveydata package."""

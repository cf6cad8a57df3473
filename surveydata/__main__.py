"""``python -m surveydata`` runs the command line."""
import sys

from surveydata.cli import main

sys.exit(main())

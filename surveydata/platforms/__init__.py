"""Bridges to survey platforms for teams that field elsewhere, with the instrument's codes.

xlsform   export the instrument as an XLSForm (ODK Collect, KoboToolbox, Enketo; checked with
          pyxform): labels in both languages, skip logic as `relevant`, ranges as constraints
odk       read an ODK Central / KoboToolbox CSV export of that form back into the raw export
          `surveydata validate` reads (-7 where the skip logic did not ask, -9 for blanks)
redcap    the instrument as a REDCap data dictionary, and a REDCap records export read back
          (checked against its dictionary's codes) into the same raw export
limesurvey the instrument as a LimeSurvey survey structure (.lss) with a code mapping, and
          LimeSurvey's response export of it read back (`read_responses`)

Like `surveydata.fieldwork`, these import `schemas`, never `analysis`.
"""

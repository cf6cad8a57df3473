"""``surveydata validate EXPORT --out DIR``: validate an export, write valid/quarantine/flags/report.

Writes ``DIR/valid.parquet`` (typed valid rows), ``DIR/quarantine.csv`` (response_id, line,
reasons), ``DIR/flags.csv``, ``DIR/failures.csv`` (every failure as data) and
``DIR/report.json`` (with the sha256 of every other output) and ``DIR/manifest.json``; CSV files
are neutralised against spreadsheet formula injection. The outputs are one transaction
(`surveydata.outputs`): all new or, after a failure or a crash, all previous; files in DIR that
the run does not write are kept; symbolic links inside DIR are refused.
The export is read and validated in pieces (`surveydata.io.ExportChunks`,
`surveydata.validate.validate_chunks`), so memory stays bounded for exports of any size.
Exit code 0 also when rows were quarantined.
"""
from __future__ import annotations

import json
from pathlib import Path

import schemas
from surveydata import _safe_csv
from surveydata.commands._common import add_study_options, study_from_args
from surveydata.errors import UserError
from surveydata.io import ExportChunks
from surveydata.outputs import OutputFolder
from surveydata.validate import QUARANTINE_COLUMNS, validate_chunks

HELP = "validate a survey export against the instrument"


def register(subparsers) -> None:
    p = subparsers.add_parser("validate", help=HELP, description=HELP)
    p.add_argument("export", metavar="EXPORT", help="the exported file (CSV, LimeSurvey, .sav, .dta)")
    add_study_options(p, lang_default="de",
                      lang_help="language of the category labels in valid.parquet")
    p.add_argument("--format", choices=("csv", "limesurvey", "spss", "stata"), default=None,
                   help="export format (default: detected)")
    p.add_argument("--rename", metavar="THEIRS=OURS", action="append", default=[],
                   help="read the file's column THEIRS as the instrument's column OURS "
                        "(repeatable; SPSS/Stata variable labels that name our columns are "
                        "used without it)")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.set_defaults(func=run)


def load_instrument_or_fail(path):
    """The instrument, or a one-line UserError naming the file."""
    try:
        return schemas.load_instrument(path)
    except schemas.InstrumentError as err:
        raise UserError(f"instrument {path or 'practice_security'}: {err}") from None


def run(args) -> int:
    inst = study_from_args(args).instrument
    if not Path(args.export).is_file():
        raise UserError(f"{args.export}: no such file")
    rename = {}
    for pair in args.rename:
        theirs, sep, ours = pair.partition("=")
        if not sep or not theirs.strip() or not ours.strip():
            raise UserError(f"--rename {pair!r}: expected THEIRS=OURS, e.g. --rename Dauer=duration_s")
        rename[theirs.strip()] = ours.strip()
    # The outputs are one transaction (surveydata.outputs): written beside --out, swapped into
    # place when complete; a failure anywhere leaves the previous outputs as they were.
    with OutputFolder(args.out, command="validate") as tx:
        # read and validated in pieces: memory stays bounded for exports of any size
        chunks = ExportChunks(args.export, inst, format=args.format, rename=rename or None)
        result = validate_chunks(chunks, inst, lang=args.lang, valid_path=tx.path("valid.parquet"))
        _safe_csv.write_csv(result.quarantine[QUARANTINE_COLUMNS], tx.path("quarantine.csv"))
        _safe_csv.write_csv(result.flags, tx.path("flags.csv"))
        _safe_csv.write_csv(result.failures, tx.path("failures.csv"))
        report = {**result.report, "outputs_sha256": tx.sha256()}
        tx.write_text("report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(result.summary())
    print(tx.result.summary())
    return 0

"""``surveydata export [--study S] [--db URL] --out DIR [--link-units]``
``surveydata export --data CHECKED --format sav|dta|parquet|r|ddi [--study S] --out DIR``.

Without ``--data``: writes the collected responses (fieldwork database) as the export
`surveydata validate` and `surveydata report` read (DIR/export.csv), the frame with each unit's
response status (DIR/frame.csv), strata counts (DIR/strata.csv) and paradata (DIR/paradata.csv);
see `surveydata.fieldwork.export`. The export is pseudonymous: the unit<->response link is cut
unless --link-units is given.

With ``--data`` (the folder `surveydata validate --out` wrote, or its valid.parquet): the validated
data for other software and archives, with the instrument's labels and missing codes
(`surveydata.archive`): SPSS .sav, Stata .dta, Parquet, R (CSV + load.R), and ``ddi``, the
instrument as DDI-Codebook 2.5 XML. Free text is left out unless --include-text. A README.md
says what the files hold and what they leave out (the study's derived variables, design and
weights are computed from the declaration by `surveydata report`, not written). Written as one
transaction (all files or the previous ones).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas.ddi import ddi_codebook
from surveydata.archive import archive_readme, detect_lang, write_archive
from surveydata.commands._common import (
    add_db_option,
    add_study_options,
    require_database,
    study_from_args,
)
from surveydata.errors import UserError
from surveydata.outputs import OutputFolder

HELP = "export collected responses for validate/report (and the frame with response status)"
FORMATS = ("csv", "sav", "dta", "parquet", "r", "ddi")


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help=HELP, description=HELP)
    add_study_options(p)
    add_db_option(p)
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.add_argument("--format", choices=FORMATS, default="csv",
                   help="csv: the response export of fieldwork (default); with --data: sav, dta, "
                        "parquet, r; ddi: the instrument as DDI-Codebook XML")
    p.add_argument("--data", metavar="CHECKED", default=None,
                   help="validated data: the folder `surveydata validate --out` wrote, or its "
                        "valid.parquet")
    p.add_argument("--include-text", action="store_true",
                   help="keep free-text answers in archive formats (default: left out)")
    p.add_argument("--link-units", action="store_true",
                   help="keep response_id in frame.csv (links units to answers; default: cut)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.data is not None or args.format == "ddi":
        return _archive(args)
    from surveydata.fieldwork.export import export_study  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.store import engine_url  # noqa: PLC0415 - lazy (commands/__init__)
    from surveydata.fieldwork.study import from_args  # noqa: PLC0415 - lazy (commands/__init__)

    study = from_args(args)
    url = engine_url(args.db, study.name)
    require_database(url)
    written = export_study(study, url, args.out, pseudonymous=not args.link_units)
    print("written: " + ", ".join(str(p) for p in written.values()))
    return 0


def _archive(args) -> int:
    study = study_from_args(args)
    inst = study.instrument
    if args.format == "ddi":

        with OutputFolder(args.out, command="export --format ddi") as tx:
            tx.write_text(f"{inst.name}.ddi.xml", ddi_codebook(inst))
        print(tx.result.summary())
        return 0
    if args.format == "csv":
        raise UserError("--data exports validated data: choose --format sav, dta, parquet or r "
                        "(csv is the fieldwork export, without --data)")
    source = Path(args.data)
    path = source / "valid.parquet" if source.is_dir() else source
    if not path.is_file():
        raise UserError(f"{path}: no validated data here; run `surveydata validate EXPORT --out "
                        f"{source}` first, or give the valid.parquet it wrote")
    try:
        valid = pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise UserError(f"{path}: not a Parquet file written by surveydata validate ({err})") from None
    lang = detect_lang(valid, inst)
    with OutputFolder(args.out, command=f"export --format {args.format}") as tx:
        staging = tx.path("data").parent     # the staging folder (files written there are the run's)
        files = write_archive(valid, inst, staging, args.format, lang=lang, include_text=args.include_text)
        # what is in the files and what is not (derived variables, design, weights, free text)
        tx.write_text("README.md", archive_readme(valid, inst, args.format, files, lang=lang,
                                                  include_text=args.include_text, study=study))
    print(tx.result.summary())
    return 0

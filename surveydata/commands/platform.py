"""``surveydata platform export|import``: field the questionnaire on another platform with the
instrument's codes, and read that platform's answers back into the raw export `validate` reads.

    surveydata platform export --to xlsform|lss|redcap [--study S.yaml] --out DIR
    surveydata platform import --from odk|redcap|limesurvey FILE [--study S.yaml] --out DIR
        [--dictionary REDCAP_DICTIONARY.csv] [--mapping LIMESURVEY_CODES.csv]

``export`` writes ``<instrument>.xlsx`` (XLSForm: ODK, KoboToolbox, Enketo), ``<instrument>.lss``
plus ``<instrument>_limesurvey_codes.csv`` (LimeSurvey: Import survey; the CSV says which codes
changed), or ``<instrument>_redcap_dictionary.csv`` (REDCap: Data Dictionary upload).
``import`` writes ``DIR/export.csv``, the raw export (``surveydata validate --data
DIR/export.csv``): a LimeSurvey export is read with the mapping written at export time
(default: the mapping made again from the instrument, which is the same for the same
instrument); a REDCap export needs the project's data dictionary (its codes are checked).
"""
from __future__ import annotations

from pathlib import Path

from surveydata.commands._common import add_study_options, study_from_args
from surveydata.errors import UserError
from surveydata.platforms.xlsform import write_xlsform

HELP = "export the questionnaire to XLSForm/LimeSurvey/REDCap, import their response exports"
TARGETS = ("xlsform", "lss", "redcap")
SOURCES = ("odk", "redcap", "limesurvey")


def register(subparsers) -> None:
    p = subparsers.add_parser("platform", help=HELP, description=HELP)
    sub = p.add_subparsers(dest="platform_command", metavar="{export,import}")
    sub.required = True
    e = sub.add_parser("export", help="write the instrument in a platform's format")
    add_study_options(e)
    e.add_argument("--to", "--format", dest="to", required=True, choices=TARGETS,
                   help="xlsform (ODK, KoboToolbox, Enketo), lss (LimeSurvey), redcap")
    e.add_argument("--out", metavar="DIR", required=True, help="output directory")
    e.set_defaults(func=run_export)
    i = sub.add_parser("import", help="read a platform's response export into the raw export")
    add_study_options(i)
    i.add_argument("--from", dest="source", required=True, choices=SOURCES,
                   help="odk (ODK Central/KoboToolbox CSV), redcap (records CSV), limesurvey "
                        "(responses CSV, question codes, answer codes)")
    i.add_argument("file", metavar="FILE", help="the platform's response export (CSV)")
    i.add_argument("--dictionary", metavar="FILE", default=None,
                   help="REDCap: the project's data dictionary CSV (required for redcap)")
    i.add_argument("--mapping", metavar="FILE", default=None,
                   help="LimeSurvey: the code mapping written by `platform export --to lss` "
                        "(default: made again from the instrument)")
    i.add_argument("--out", metavar="DIR", required=True, help="output directory")
    i.set_defaults(func=run_import)


def _out_dir(path: str) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{out}: cannot create the output directory ({err.strerror})") from None
    return out


def run_export(args) -> int:
    inst = study_from_args(args).instrument
    out = _out_dir(args.out)
    if args.to == "xlsform":

        written = [write_xlsform(inst, out / f"{inst.name}.xlsx")]
    elif args.to == "lss":
        from surveydata.platforms.limesurvey import write_lss  # noqa: PLC0415 - lazy (commands/__init__)

        written = list(write_lss(inst, out))
    else:
        from surveydata.platforms.redcap import write_redcap_dictionary  # noqa: PLC0415 - lazy (commands/__init__)

        written = [write_redcap_dictionary(inst, out / f"{inst.name}_redcap_dictionary.csv")]
    for path in written:
        print(f"{args.to}: {path}")
    return 0


def run_import(args) -> int:
    inst = study_from_args(args).instrument
    if not Path(args.file).is_file():
        raise UserError(f"{args.file}: no such file (the {args.source} response export)")
    if args.source == "odk":
        from surveydata.platforms.odk import read_odk_csv  # noqa: PLC0415 - lazy (commands/__init__)

        raw = read_odk_csv(args.file, inst)
    elif args.source == "redcap":
        from surveydata.platforms.redcap import read_redcap  # noqa: PLC0415 - lazy (commands/__init__)

        if args.dictionary is None:
            raise UserError("--from redcap needs --dictionary FILE (the project's data "
                            "dictionary, Project Setup -> Data Dictionary -> download)")
        raw = read_redcap(args.file, args.dictionary, inst)
    else:
        from surveydata.platforms.limesurvey import code_mapping, read_responses  # noqa: PLC0415 - lazy (commands/__init__)

        raw = read_responses(args.file, inst, args.mapping or code_mapping(inst))
    out = _out_dir(args.out) / "export.csv"
    raw.to_csv(out, index=False, encoding="utf-8")
    conflicts = raw.attrs.get("export", {}).get("conflicts") or []
    print(f"{len(raw)} response(s) from {args.source} written to {out}"
          + (f"; {len(conflicts)} cell(s) with a number and a missing box both given "
             "(number kept)" if conflicts else ""))
    return 0

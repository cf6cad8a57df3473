"""``surveydata simulate --seed S --out DIR [--study S.yaml | --instrument X.yaml]``: simulated data.

The practice study (the default) keeps its own simulator with known truth: ``DIR/export.csv``
(German Excel CSV with planted errors), ``DIR/strata.csv``, ``DIR/truth.json`` and
``DIR/README.md`` (see `surveydata.simulate.dataset`). Any other study or instrument gets
``surveydata.simulate.generic``: respondents drawn from the instrument's priors (uniform where it
has none), obeying skip logic, missing codes and hard rules, with planted errors, written as
``export.csv``, ``truth.json`` (the planted errors and the lines validation must quarantine) and
``README.md``. The same arguments give byte-identical files.
"""
from __future__ import annotations

from surveydata.commands._common import add_study_options, study_from_args
from surveydata.errors import UserError
from surveydata.outputs import OutputFolder
from surveydata.simulate.dataset import simulate_dataset, write_dataset
from surveydata.simulate.generic import simulate_responses, simulated_files

HELP = "simulate survey data with planted errors (the practice study: with known population truth)"
PRACTICE = "practice_security"


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help=HELP, description=HELP)
    p.add_argument("--seed", type=int, default=1,
                   help="master seed (stage seeds are spawned from it; default 1, recorded with the output)")
    add_study_options(p, lang_default="de", lang_help="language (not used: exports carry codes)")
    p.add_argument("--n-invited", type=int, default=8000,
                   help="practice study: practices invited (default 8000)")
    p.add_argument("--response-rate", type=float, default=0.2,
                   help="practice study: expected response rate (default 0.2)")
    p.add_argument("--n", type=int, default=300, dest="n_respondents",
                   help="other studies: number of simulated respondents (default 300)")
    p.add_argument("--decimal", choices=(",", "."), default=",", metavar="MARK",
                   help="other studies: decimal mark in the export, ',' (default, with ';' between fields) or '.'")
    p.add_argument("--error-rate", type=float, default=0.05,
                   help="share of respondents with one planted error (default 0.05)")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.study is None and args.instrument is None:
        return _practice(args)
    inst = study_from_args(args).instrument
    if inst.name == PRACTICE:
        return _practice(args, inst)
    return _generic(args, inst)


def _practice(args, inst=None) -> int:
    try:
        ds = simulate_dataset(args.seed, n_invited=args.n_invited, response_rate=args.response_rate,
                              error_rate=args.error_rate, instrument=inst)
    except ValueError as err:
        raise UserError(str(err)) from None
    try:
        paths = write_dataset(ds, args.out)
    except OSError as err:
        raise UserError(f"{args.out}: cannot write ({err.strerror})") from None
    s = ds.truth["sample"]
    print(f"simulated {s['n_responded']} responses of {s['n_invited']} invited "
          f"({len(ds.truth['planted_errors'])} with planted errors) -> {', '.join(str(p) for p in paths)}")
    return 0


def _generic(args, inst) -> int:
    try:
        sim = simulate_responses(inst, n=args.n_respondents, seed=args.seed,
                                 error_rate=args.error_rate, decimal=args.decimal)
    except ValueError as err:
        raise UserError(str(err)) from None
    which = (f"--study {args.study}" if args.study is not None
             else f"--instrument {args.instrument}")
    command = (f"surveydata simulate --seed {args.seed} {which} --n {args.n_respondents} "
               f"--error-rate {args.error_rate} --decimal '{args.decimal}'")
    files = simulated_files(sim, command)
    with OutputFolder(args.out, command="simulate") as tx:
        for name in sorted(files):
            tx.write_bytes(name, files[name])
    print(f"simulated {len(sim.coded)} respondents of {inst.name} {inst.version} "
          f"({len(sim.planted)} with planted errors) -> {args.out}")
    return 0

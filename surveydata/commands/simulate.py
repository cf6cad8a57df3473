"""``surveydata simulate --seed S --out DIR [--study S.yaml | --instrument X.yaml]``: simulated data.

A study that declares a population model (its ``simulation:`` section; the packaged practice
study, the default, does) is simulated from that model with known truth: ``DIR/export.csv``
(German Excel CSV with planted errors), ``DIR/strata.csv``, ``DIR/truth.json`` and
``DIR/README.md`` (see `surveydata.simulate.dataset`; sizes from --n-invited and
--response-rate). Any other study or instrument, or any study when ``--n`` is given, gets
``surveydata.simulate.generic``: ``--n`` respondents drawn from the instrument's priors (uniform
where it has none), obeying skip logic, missing codes and hard rules, with planted errors, written
as ``export.csv``, ``truth.json`` (the planted errors and the lines validation must quarantine)
and ``README.md``. Which simulator ran is printed and named in the README's "Made by" line. The
same arguments give byte-identical files.
"""
from __future__ import annotations

from surveydata.commands._common import add_study_options, study_from_args
from surveydata.errors import UserError
from surveydata.outputs import OutputFolder
from surveydata.simulate.dataset import simulate_dataset, write_dataset
from surveydata.simulate.generic import simulate_responses, simulated_files

HELP = "simulate survey data with planted errors (from the study's population model: with known truth)"
PRACTICE = "practice_security"
N_INVITED, RESPONSE_RATE, N_RESPONDENTS = 8000, 0.2, 300


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help=HELP, description=HELP)
    p.add_argument("--seed", type=int, default=1,
                   help="master seed (stage seeds are spawned from it; default 1, recorded with the output)")
    add_study_options(p, lang_help="language (not used: exports carry codes)")
    p.add_argument("--n-invited", type=int, default=None,
                   help=f"studies with a population model (simulation:): units invited (default {N_INVITED})")
    p.add_argument("--response-rate", type=float, default=None,
                   help=f"studies with a population model: expected response rate (default {RESPONSE_RATE})")
    p.add_argument("--n", type=int, default=None, dest="n_respondents",
                   help=f"respondents drawn from the instrument's priors alone (the generic simulator; "
                        f"default {N_RESPONDENTS}); for a study with a population model, --n asks for "
                        "the generic simulator instead of the model")
    p.add_argument("--decimal", choices=(",", "."), default=",", metavar="MARK",
                   help="generic simulator: decimal mark in the export, ',' (default, with ';' between fields) or '.'")
    p.add_argument("--error-rate", type=float, default=0.05,
                   help="share of respondents with one planted error (default 0.05)")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {args.seed}")
    study = study_from_args(args)
    inst = study.instrument
    model_args = args.n_invited is not None or args.response_rate is not None
    if args.n_respondents is not None and model_args:
        raise UserError("--n (respondents from the priors, the generic simulator) and --n-invited/"
                        "--response-rate (the study's population model) exclude each other: give one")
    if args.n_respondents is None:
        if study.simulation is not None:
            return _declared(args, study)
        if args.study is None and inst.name == PRACTICE:
            # the default study's instrument given alone: its study's model (and truth)
            return _declared(args, None, inst)
        if model_args:
            raise UserError(f"--n-invited/--response-rate need a population model: "
                            f"{args.study or args.instrument} declares no simulation: section; "
                            "give --n (respondents) for the generic simulator")
        args.n_respondents = N_RESPONDENTS
    elif study.simulation is not None:
        print(f"note: --n given: {inst.name} simulated from its instrument's priors (the generic "
              "simulator), not from the study's population model (drop --n to use it)")
    return _generic(args, inst)


def _declared(args, study, inst=None) -> int:
    n_invited = N_INVITED if args.n_invited is None else args.n_invited
    rate = RESPONSE_RATE if args.response_rate is None else args.response_rate
    try:
        ds = simulate_dataset(args.seed, n_invited=n_invited, response_rate=rate,
                              error_rate=args.error_rate, instrument=inst, study=study)
    except ValueError as err:
        raise UserError(str(err)) from None
    which = (f"--study {args.study} " if args.study is not None
             else f"--instrument {args.instrument} " if args.instrument is not None else "")
    readme = ds.files["README.md"].decode("utf-8")
    made_by = "Made by `surveydata simulate --seed"
    if which and made_by in readme:     # the README names the declaration the data came from
        readme = readme.replace(made_by, f"Made by `surveydata simulate {which}--seed", 1)
        readme = readme.replace("` (instrument", "` (the study's population model, `simulation:`; "
                                "instrument", 1)
    ds.files["README.md"] = readme.encode("utf-8")
    try:
        write_dataset(ds, args.out)
    except OSError as err:
        raise UserError(f"{args.out}: cannot write ({err.strerror})") from None
    s = ds.truth["sample"]
    print(f"simulated {s['n_responded']} responses of {s['n_invited']} invited from the population "
          f"model of {ds.truth['instrument']['name']} ({len(ds.truth['planted_errors'])} with planted "
          f"errors) -> {args.out}")
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

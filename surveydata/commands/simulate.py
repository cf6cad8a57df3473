"""``surveydata simulate --seed S --out DIR``: a simulated survey with known truth.

Writes ``DIR/export.csv`` (German Excel CSV with planted errors), ``DIR/strata.csv``,
``DIR/truth.json`` and ``DIR/README.md`` (see `surveydata.simulate.dataset`). The same arguments
give byte-identical files.
"""
from __future__ import annotations

HELP = "simulate a survey of German practices with known truth and planted data errors"


def register(subparsers) -> None:
    p = subparsers.add_parser("simulate", help=HELP, description=HELP)
    p.add_argument("--seed", type=int, required=True, help="master seed (stage seeds are spawned from it)")
    p.add_argument("--n-invited", type=int, default=8000, help="practices invited (default 8000)")
    p.add_argument("--response-rate", type=float, default=0.2, help="expected response rate (default 0.2)")
    p.add_argument("--error-rate", type=float, default=0.05,
                   help="share of respondents with one planted error (default 0.05)")
    p.add_argument("--out", metavar="DIR", required=True, help="output directory")
    p.set_defaults(func=run)


def run(args) -> int:
    from surveydata.cli import UserError
    from surveydata.simulate.dataset import simulate_dataset, write_dataset

    if args.seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {args.seed}")
    try:
        ds = simulate_dataset(args.seed, n_invited=args.n_invited, response_rate=args.response_rate,
                              error_rate=args.error_rate)
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

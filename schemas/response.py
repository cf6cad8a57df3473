"""Checks on raw coded responses, derived from the instrument, and the pandera schema built from them.

Every rule a response must satisfy is generated once from the `Instrument` as a `CheckSpec`
(stable machine `name`, human `description`, the columns it reads, and a vectorised function that
returns True for the rows that pass). `response_schema` wraps the hard ones into a pandera
`DataFrameSchema`; `soft_rules` hands out the soft ones for flagging; `check_masks` evaluates the
same functions as plain pandas masks (the speed baseline, and a cross-check of pandera).

The frame these checks read is the RAW coded frame: one column per `inst.columns`, integer codes
as nullable `Int64` (multi-choice option columns too), string codes (federal_state) and free text
as `str`, `submitted_at` as ISO 8601 text, `duration_s` as float; in format 2 also number items
as float64 and date/date-time items as ISO text (a missing code as its digits, "-9" or "99").
The missing codes are the instrument's own (-7/-8/-9 unless it declares e.g. 97/98/99). `coerce_raw` brings an export
read as text into that shape and lists every value it cannot convert.

Check names (`<kind>:<target>`), each pandera failure carries `"<name>: <description>"` in the
`check` column of `SchemaErrors.failure_cases`; split it with `split_check`:

=====================  ======  =============================================================
name                   level   fails where
=====================  ======  =============================================================
codes:<var>            column  a single-choice value is not a code, permitted missing code, or
                               -7 (only for items with ask_if)
likert:<var>           column  a Likert value is not 1..5 or a permitted missing code
scale:<var>            column  a rating (format 2 scale) is not a point or a permitted missing code
range:<var>            column  an integer or number is outside [min, max] and not a permitted
                               missing code; a date (date-time) is not one, or outside its range
decimals:<var>         column  a number has more decimal places than declared
binary:<var>__<opt>    column  a multi-choice column is not 0/1 (-9, and -7 with ask_if)
max_length:<var>       column  a free text is longer than max_length characters
min:<meta>             column  duration_s below 0
datetime:<meta>        column  submitted_at is not an ISO 8601 date-time
skip_not_asked:<var>   frame   ask_if is false but the item holds an answer (expected -7)
skip_asked:<var>       frame   ask_if is true but the item holds -7
multi_no_answer:<var>  frame   some but not all option columns hold -9
exclusive:<var>        frame   an exclusive option is ticked together with another option
max_select:<var>       frame   more options ticked than max_select
rule:<id>              frame   a hard cross-item rule of the instrument is violated
multi_empty:<var>      frame   (soft) asked, answered, but no option ticked at all
rule:<id> (soft)       frame   a soft cross-item rule is violated
=====================  ======  =============================================================

pandera adds its own: `not_nullable` (an empty cell in a coded column or metadata),
`field_uniqueness` (a repeated response_id), `dtype('Int64')`, `column_in_dataframe`.
A frame-level failure appears in failure_cases once per column of the row (pandera melts the
row); `CheckSpec.columns[0]` is the column to blame.

Example:
    >>> import schemas
    >>> inst = schemas.load_instrument()
    >>> schema = response_schema(inst)
    >>> "skip_not_asked:large_devices" in {c.name for c in schema.checks}
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import values as _values
from .instrument import Instrument, Item, Rule

__all__ = [
    "CheckSpec",
    "check_masks",
    "check_specs",
    "coerce_raw",
    "raw_dtypes",
    "response_schema",
    "soft_rules",
    "split_check",
    "value_kinds",
]


@dataclass(frozen=True)
class CheckSpec:
    """One generated check.

    `fn` takes the column (level "column") or the whole frame (level "frame") and returns a
    boolean Series that is True where the row passes. Column-level functions never see missing
    cells (pandera drops them; `check_masks` does the same): emptiness is `not_nullable`'s job.
    """

    name: str
    kind: str
    level: str  # column | frame
    columns: tuple[str, ...]
    description: str
    fn: Callable = field(repr=False, compare=False)
    severity: str = "hard"
    rule: Rule | None = field(default=None, repr=False, compare=False)

    @property
    def error(self) -> str:
        """The text pandera reports in failure_cases["check"]: "<name>: <description>"."""
        return f"{self.name}: {self.description}"

    def passes(self, data) -> pd.Series:
        """Evaluate on a column or frame as a plain pandas mask (missing cells pass).

        Example:
            >>> import pandas as pd, schemas
            >>> spec = {s.name: s for s in check_specs(schemas.load_instrument())}["codes:practice_form"]
            >>> spec.passes(pd.Series([1, 7, None], dtype="Int64")).tolist()
            [True, False, True]
        """
        if self.level == "column":
            return self.fn(data) | data.isna()
        return self.fn(data)


def split_check(check: str) -> tuple[str, str]:
    """Split a failure_cases "check" entry into (name, description).

    pandera's own checks have no description: ("not_nullable", "").

    Example:
        >>> split_check("codes:practice_type: practice_type must be one of 1, 2, 3, 4, 5")
        ('codes:practice_type', 'practice_type must be one of 1, 2, 3, 4, 5')
    """
    name, sep, description = str(check).partition(": ")
    return (name, description) if sep else (str(check), "")


# --------------------------------------------------------------------------- dtypes

_INT = "Int64"


def raw_dtypes(inst: Instrument) -> dict[str, str]:
    """The dtype of every raw export column: Int64 for codes and counts, str for string codes,
    free text, response_id and submitted_at, float64 for duration_s.

    Example:
        >>> import schemas
        >>> d = raw_dtypes(schemas.load_instrument())
        >>> d["federal_state"], d["n_physicians"], d["info_needs__none"], d["duration_s"]
        ('str', 'Int64', 'Int64', 'float64')
    """
    out: dict[str, str] = {}
    for m in inst.metadata:
        out[m.var] = "float64" if m.type == "number" else "str"
    for item in inst.items:
        if item.type == "number":
            kind = "float64"
        elif item.type in ("text", "date", "datetime") or item.string_codes:
            kind = "str"
        else:
            kind = _INT
        for col in item.columns:
            out[col] = kind
    return out


def value_kinds(inst: Instrument) -> dict[str, str]:
    """How the text of each raw export column is read (the `schemas.values` parser to use):
    "integer" (codes and counts), "number" (decimals, and duration_s), "date", "datetime"
    (date and date-time ITEMS, normalised by the parser) or "text" (kept as text: ids, string
    codes, free text, the submitted_at metadata, which the schema judges).

    Example:
        >>> import schemas
        >>> k = value_kinds(schemas.load_instrument())
        >>> k["n_physicians"], k["duration_s"], k["federal_state"], k["submitted_at"]
        ('integer', 'number', 'text', 'text')
    """
    out: dict[str, str] = {}
    for m in inst.metadata:
        out[m.var] = "number" if m.type == "number" else "text"
    for item in inst.items:
        if item.type in ("number", "date", "datetime"):
            kind = item.type
        elif item.type == "text" or item.string_codes:
            kind = "text"
        else:
            kind = "integer"
        for col in item.columns:
            out[col] = kind
    return out


def parse_column(text: pd.Series, inst: Instrument, column: str, decimal: str = "auto"):
    """`schemas.values.Parsed` of one export column of `inst` (None for a "text" column).

    Dates are checked against the item's range (validation.min/max, default 1900-01-01 to
    2100-12-31); the instrument's missing codes pass as their digits.

    Example:
        >>> import pandas as pd, schemas
        >>> inst = schemas.load_instrument()
        >>> parse_column(pd.Series(["+3", "2,5"]), inst, "n_physicians").values.tolist()
        [3, <NA>]
    """
    kind = value_kinds(inst)[column]
    if kind == "text":
        return None
    if kind in ("integer", "number"):
        return _values.parse_values(text, kind, column=column, decimal=decimal)
    item = inst.column_item(column)
    return _values.parse_values(
        text, kind, column=column, earliest=item.min, latest=item.max, codes=tuple(item.missing_set)
    )


def coerce_raw(
    frame: pd.DataFrame, inst: Instrument, decimal: str = "auto"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert an export read as text into the raw dtypes; list what cannot be converted.

    The text is read by `schemas.values` (the one parser, see its rules: ``"+3"`` is 3,
    ``"4.0"`` is 4, ``"2,5"`` is 2.5 in a number column, an overflow is a problem, dates
    strictly); `decimal` is the export's decimal separator ("auto", "," or ".").

    Returns (coerced, problems). `coerced` has the instrument's columns (plus any extra columns,
    unchanged) in their raw dtypes; a value that cannot be read becomes missing there and gets
    one row in `problems` with columns index, column, value, check ("dtype:<column>"),
    description (the parser's reason). The same cell then also fails pandera's not_nullable:
    report the dtype problem and drop that duplicate. Columns the frame lacks are left out
    (pandera reports them as column_in_dataframe).

    Example:
        >>> import pandas as pd, schemas
        >>> inst = schemas.load_instrument()
        >>> raw = pd.DataFrame({"n_physicians": ["2", " 3 ", "x", "1.5", "4.0", None]})
        >>> coerced, problems = coerce_raw(raw, inst)
        >>> coerced["n_physicians"].tolist()
        [2, 3, <NA>, <NA>, 4, <NA>]
        >>> problems[["index", "value", "check"]].values.tolist()
        [[2, 'x', 'dtype:n_physicians'], [3, '1.5', 'dtype:n_physicians']]
    """
    dtypes = raw_dtypes(inst)
    kinds = value_kinds(inst)
    out = frame.copy()
    problems = []
    for col, dtype in dtypes.items():
        if col not in frame.columns:
            continue
        s = frame[col]
        if kinds[col] == "text":
            if s.dtype != "str":
                # keep missing cells missing; everything else becomes its text
                out[col] = s.astype("str").where(s.notna())
            continue
        if dtype == _INT and s.dtype == _INT:
            continue
        parsed = parse_column(s, inst, col, decimal=decimal)
        out[col] = parsed.values
        if len(parsed.problems):
            rows = parsed.problems["row"].to_numpy()
            problems.append(
                pd.DataFrame(
                    {
                        "index": frame.index[rows],
                        "column": col,
                        "value": parsed.problems["value"].to_numpy(),
                        "check": f"dtype:{col}",
                        "description": parsed.problems["message"].to_numpy(),
                    }
                )
            )
    columns = ["index", "column", "value", "check", "description"]
    problems_frame = (
        pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=columns)
    )
    return out, problems_frame


# --------------------------------------------------------------------------- check generation


def _fmt(values) -> str:
    return ", ".join(str(v) for v in values)


def _num(x) -> str:
    """3 -> '3', 2.5 -> '2.5', 40.0 -> '40' (a range bound for a message)."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _column_checks(item: Item) -> list[CheckSpec]:
    """Value checks that read one column."""
    missing = list(item.missing) + ([item.not_applicable] if item.ask_if is not None else [])
    specs = []
    if item.type in ("single", "likert5", "scale"):
        if item.string_codes:
            allowed = list(item.substantive_codes) + [str(m) for m in missing]
        else:
            allowed = list(item.substantive_codes) + missing
        kind = {"likert5": "likert", "scale": "scale"}.get(item.type, "codes")
        text = f"{item.var} must be one of {_fmt(allowed)}"
        specs.append(
            CheckSpec(
                f"{kind}:{item.var}",
                kind,
                "column",
                (item.var,),
                text,
                lambda s, a=allowed: s.isin(a),
            )
        )
    elif item.type in ("integer", "number"):
        lo, hi = item.min, item.max
        what = "a whole number" if item.type == "integer" else "a number"
        text = f"{item.var} must be {what} from {_num(lo)} to {_num(hi)}" + (
            f" or one of {_fmt(missing)}" if missing else ""
        )

        def _chk_range(s, lo=lo, hi=hi, missing=missing):
            return s.between(lo, hi) | s.isin(missing)

        specs.append(
            CheckSpec(f"range:{item.var}", "range", "column", (item.var,), text, _chk_range)
        )
        if item.type == "number":
            d = item.decimals

            def _chk_decimals(s, d=d, missing=missing):
                # relative tolerance for the binary representation only: 1e-6 let 70.64007 pass as
                # 3 decimals (70640.07 is within 1e-6 of 70640)
                x = s.astype("float64") * 10.0**d
                return (np.abs(x - np.round(x)) <= 1e-9 * np.maximum(1.0, np.abs(x))) | s.isin(missing)

            specs.append(
                CheckSpec(
                    f"decimals:{item.var}",
                    "decimals",
                    "column",
                    (item.var,),
                    f"{item.var} must have at most {d} decimal place(s)",
                    _chk_decimals,
                )
            )
    elif item.type in ("date", "datetime"):
        lo, hi = item.min, item.max
        codes = [str(m) for m in missing]
        what = "a date" if item.type == "date" else "a date-time"
        text = f"{item.var} must be {what} from {lo} to {hi}" + (
            f" or one of {_fmt(codes)}" if codes else ""
        )

        def _chk_dates(s, lo=lo, hi=hi, codes=codes, kind=item.type):
            parsed = _values.parse_values(s.astype("str"), kind, earliest=lo, latest=hi)
            return pd.Series(~parsed.bad, index=s.index) | s.isin(codes)

        specs.append(
            CheckSpec(f"range:{item.var}", "range", "column", (item.var,), text, _chk_dates)
        )
    elif item.type == "multi":
        allowed = [0, 1, *missing]
        for col in item.columns:
            text = f"{col} must be one of {_fmt(allowed)} (1 ticked, 0 not ticked)"
            specs.append(
                CheckSpec(
                    f"binary:{col}",
                    "binary",
                    "column",
                    (col,),
                    text,
                    lambda s, a=allowed: s.isin(a),
                )
            )
    elif item.type == "text":
        n = item.max_length
        text = f"{item.var} must have at most {n} characters"
        specs.append(
            CheckSpec(
                f"max_length:{item.var}",
                "max_length",
                "column",
                (item.var,),
                text,
                lambda s, n=n: s.str.len() <= n,
            )
        )
    return specs


_NA_CODE = -(2**31)  # stands for an empty cell inside the code matrices below


def _matrix(frame: pd.DataFrame, columns) -> np.ndarray:
    """Integer codes of `columns` as a (k, n) numpy array (one row per column, so each stays
    contiguous), empty cells as _NA_CODE.

    Row-wise work on a frame of nullable extension columns is slow in pandas; on one numpy
    block it is a single vectorised pass.
    """
    return np.vstack([frame[c].to_numpy(dtype="int64", na_value=_NA_CODE) for c in columns])


def _is_text(item: Item) -> bool:
    return item.string_codes or item.type in ("date", "datetime")


def _answered(frame: pd.DataFrame, item: Item) -> np.ndarray:
    """Rows where the item holds anything but -7 (empty cells do not count)."""
    if item.type == "text":  # an empty text (NA, or "" from a reader that fills) is no answer
        s = frame[item.var]
        return (s.notna() & (s.astype("str").str.strip() != "")).to_numpy(dtype=bool)
    if _is_text(item):
        s = frame[item.var]
        return (s.notna() & (s != str(item.not_applicable))).to_numpy(dtype=bool)
    if item.type == "number":
        x = frame[item.var].to_numpy(dtype="float64", na_value=np.nan)
        return ~np.isnan(x) & (x != item.not_applicable)
    m = _matrix(frame, item.columns)
    return ((m != item.not_applicable) & (m != _NA_CODE)).any(axis=0)


def _coded_not_applicable(frame: pd.DataFrame, item: Item) -> np.ndarray:
    if _is_text(item):
        return (frame[item.var] == str(item.not_applicable)).to_numpy(dtype=bool, na_value=False)
    if item.type == "number":
        return frame[item.var].to_numpy(dtype="float64", na_value=np.nan) == item.not_applicable
    return (_matrix(frame, item.columns) == item.not_applicable).any(axis=0)


def _skip_checks(item: Item) -> list[CheckSpec]:
    cond = item.ask_if
    cols = (*item.columns, *cond.variables)
    specs = [
        CheckSpec(
            f"skip_not_asked:{item.var}",
            "skip_not_asked",
            "frame",
            cols,
            f"{item.var} was not asked (ask_if '{cond.text}' is false) but holds an answer; "
            f"expected {item.not_applicable} (not applicable)",
            lambda f, i=item, c=cond: ~(~c.evaluate(f) & _answered(f, i)),
        )
    ]
    if item.type != "text":
        specs.append(
            CheckSpec(
                f"skip_asked:{item.var}",
                "skip_asked",
                "frame",
                cols,
                f"{item.var} was asked (ask_if '{cond.text}' is true) but holds "
                f"{item.not_applicable} (not applicable)",
                lambda f, i=item, c=cond: ~(c.evaluate(f) & _coded_not_applicable(f, i)),
            )
        )
    return specs


def _multi_checks(item: Item) -> list[CheckSpec]:
    cols = item.columns
    specs = []

    def as_series(f, values):
        return pd.Series(values, index=f.index)

    if item.no_answer in item.missing:

        def _chk_all_or_none(f, cols=cols, code=item.no_answer):
            n = (_matrix(f, cols) == code).sum(axis=0)
            return as_series(f, (n == 0) | (n == len(cols)))

        specs.append(
            CheckSpec(
                f"multi_no_answer:{item.var}",
                "multi_no_answer",
                "frame",
                cols,
                f"{item.var}: {item.no_answer} (no answer) must be in all option columns or in none",
                _chk_all_or_none,
            )
        )
    for opt in item.exclusive_options:
        col = f"{item.var}__{opt}"
        others = [c for c in cols if c != col]

        def _chk_exclusive(f, col=col, others=others):
            m = _matrix(f, [col, *others]) == 1
            return as_series(f, ~(m[0] & m[1:].any(axis=0)))

        specs.append(
            CheckSpec(
                f"exclusive:{item.var}",
                "exclusive",
                "frame",
                (col, *others),
                f"{item.var}: the exclusive option '{opt}' cannot be ticked together with other options",
                _chk_exclusive,
            )
        )
    if item.max_select is not None:
        k = item.max_select

        def _chk_max_select(f, cols=cols, k=k):
            return as_series(f, (_matrix(f, cols) == 1).sum(axis=0) <= k)

        specs.append(
            CheckSpec(
                f"max_select:{item.var}",
                "max_select",
                "frame",
                cols,
                f"{item.var}: at most {k} options may be ticked",
                _chk_max_select,
            )
        )
    if item.exclusive_options:
        # An answered multi-choice item with an explicit 'none' option should tick something.
        def _chk_something_ticked(f, cols=cols):
            m = _matrix(f, cols)
            answered = ((m == 0) | (m == 1)).all(axis=0)
            return as_series(f, ~answered | (m == 1).any(axis=0))

        specs.append(
            CheckSpec(
                f"multi_empty:{item.var}",
                "multi_empty",
                "frame",
                cols,
                f"{item.var}: answered, but no option ticked (not even "
                f"'{item.exclusive_options[0]}')",
                _chk_something_ticked,
                severity="soft",
            )
        )
    return specs


def _rule_check(rule: Rule) -> CheckSpec:
    # the required side names the column to blame first (incident_ever, not incident_12m)
    columns = dict.fromkeys(rule.require.variables)
    if rule.when is not None:
        columns.update(dict.fromkeys(rule.when.variables))
    return CheckSpec(
        f"rule:{rule.id}",
        "rule",
        "frame",
        tuple(columns),
        f"rule {rule.id}: {rule.message.en}",
        lambda f, r=rule: ~r.violations(f),
        severity=rule.severity,
        rule=rule,
    )


def check_specs(inst: Instrument) -> tuple[CheckSpec, ...]:
    """Every check of the instrument, hard and soft, in questionnaire order.

    Example:
        >>> import schemas
        >>> specs = check_specs(schemas.load_instrument())
        >>> [s.name for s in specs if s.columns[0] == "info_needs__none"]
        ['binary:info_needs__none', 'exclusive:info_needs']
    """
    specs: list[CheckSpec] = []
    for m in inst.metadata:
        if m.type == "datetime":
            specs.append(
                CheckSpec(
                    f"datetime:{m.var}",
                    "datetime",
                    "column",
                    (m.var,),
                    f"{m.var} must be an ISO 8601 date-time (e.g. 2026-03-01T09:30:00)",
                    # schemas.values: strict ISO 8601 and plausible (0000-01-01 is not)
                    lambda s: pd.Series(
                        ~_values.parse_datetime(s.astype("str")).bad, index=s.index
                    ),
                )
            )
        if m.type == "number" and m.min is not None:
            specs.append(
                CheckSpec(
                    f"min:{m.var}",
                    "min",
                    "column",
                    (m.var,),
                    f"{m.var} must be at least {m.min:g}",
                    lambda s, lo=m.min: s >= lo,
                )
            )
    for item in inst.items:
        specs.extend(_column_checks(item))
    for item in inst.items:
        if item.ask_if is not None:
            specs.extend(_skip_checks(item))
        if item.type == "multi":
            specs.extend(_multi_checks(item))
    for rule in inst.rules:
        if rule.builtin is None:
            specs.append(_rule_check(rule))
    return tuple(specs)


def soft_rules(inst: Instrument) -> tuple[CheckSpec, ...]:
    """The soft checks: they flag a row, never reject it.

    `spec.passes(frame)` is False in the rows to flag; `spec.rule` is the instrument's Rule
    (with German and English messages) for cross-item rules, None for generated screens.

    Example:
        >>> import schemas
        >>> [s.name for s in soft_rules(schemas.load_instrument())][:2]
        ['multi_empty:internet_services', 'multi_empty:info_sources']
    """
    return tuple(s for s in check_specs(inst) if s.severity == "soft")


def response_schema(inst: Instrument) -> pa.DataFrameSchema:
    """The pandera schema of a valid RAW coded response frame (hard checks only).

    Validate lazily to get every failure at once:
    `response_schema(inst).validate(frame, lazy=True)` raises `pa.errors.SchemaErrors` whose
    `failure_cases` rows name column, value (failure_case), index and check
    ("<name>: <description>", see `split_check`).

    Example:
        >>> import schemas
        >>> schema = response_schema(schemas.load_instrument())
        >>> schema.columns["n_physicians"].dtype, schema.columns["n_physicians"].nullable
        (DataType(Int64), False)
    """
    dtypes = raw_dtypes(inst)
    specs = [s for s in check_specs(inst) if s.severity == "hard"]
    by_column: dict[str, list[pa.Check]] = {c: [] for c in inst.columns}
    frame_checks = []
    for spec in specs:
        check = pa.Check(
            spec.fn,
            name=spec.name,
            error=spec.error,
            element_wise=False,
            ignore_na=spec.level == "column",
        )
        if spec.level == "column":
            by_column[spec.columns[0]].append(check)
        else:
            frame_checks.append(check)
    text_vars = {i.var for i in inst.items if i.type == "text"}
    columns = {}
    for col in inst.columns:
        columns[col] = pa.Column(
            dtypes[col],
            checks=by_column[col],
            nullable=col in text_vars,
            unique=col == "response_id",
            coerce=dtypes[col] != "str",
            required=True,
        )
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        name=f"{inst.name} {inst.version} raw responses",
        strict=False,
        ordered=False,
    )


def check_masks(
    frame: pd.DataFrame, inst: Instrument, severity: str = "hard"
) -> dict[str, pd.Series]:
    """The same checks as plain pandas masks: {check name: boolean Series, True = passes}.

    Also includes `not_nullable:<column>` for every coded and metadata column. This is the
    baseline of the speed comparison and lets tests cross-check pandera's verdicts.

    Example:
        >>> import pandas as pd, schemas
        >>> inst = schemas.load_instrument()
        >>> frame = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in raw_dtypes(inst).items()})
        >>> len(check_masks(frame, inst)) > 100
        True
    """
    text_vars = {i.var for i in inst.items if i.type == "text"}
    out = {}
    for col in inst.columns:
        if col not in text_vars:
            out[f"not_nullable:{col}"] = frame[col].notna()
    for spec in check_specs(inst):
        if spec.severity != severity:
            continue
        data = frame[spec.columns[0]] if spec.level == "column" else frame
        out[spec.name] = spec.passes(data)
    return out

"""Validate a raw export against the instrument: every row ends valid or quarantined, with reasons.

The steps, each producing failures as data (one row per failed cell or rule, never an exception):

1. **malformed records** (more or fewer fields than the header, found by `read_export`);
2. **parsing** the text of each column into the coded frame with `schemas.values` (the one
   parser): integer codes must be whole numbers (``"3,5"``, ``"abc"`` are not; ``"+3"`` and
   ``"2.0"`` are), numbers accept a decimal point or a decimal comma and must not overflow,
   date-times must be ISO 8601 and plausible; stray whitespace around a value is ignored; free
   text is kept verbatim;
3. **duplicates**: an exact copy (every cell's text identical) of an earlier record is quarantined
   as ``duplicate_row`` and the first copy kept; records sharing a ``response_id`` but differing
   anywhere are all quarantined as ``duplicate_response_id``, ids compared by `id_key` (NFKC,
   zero-width characters removed, whitespace stripped, case folded: ``" R1"`` is ``"r1"``);
4. **the instrument's pandera schema** (`schemas.response_schema`), validated lazily, so that
   every failing check of every row is reported; its ``failure_cases`` are mapped back to rows.

A row with at least one failure goes to `ValidationResult.quarantine`, every other row to
`ValidationResult.valid` (typed, with derived variables); soft rules and data-quality screens
(`surveydata.quality`) only flag valid rows. Rows read = valid + quarantined is checked and a
break of it raised as `ValidationInvariantError`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import schemas
from schemas import derive, response_schema
from schemas import values as sv
from schemas.derived import compile_entries, compile_instrument
from schemas.response import check_specs, parse_column, split_check
from surveydata import _instrument as ins
from surveydata import quality
from surveydata.errors import SurveyDataError
from surveydata.io import LINE_COLUMN, ROW_ERROR_COLUMN, ExportError, read_export

__all__ = ["FAILURE_COLUMNS", "QUARANTINE_COLUMNS", "ValidationInvariantError",
           "ValidationResult", "id_key", "validate", "validate_chunks"]

FAILURE_COLUMNS = ["response_id", "line", "column", "value", "rule", "message"]
QUARANTINE_COLUMNS = ["response_id", "line", "reasons"]


class ValidationInvariantError(SurveyDataError):
    """Rows read != valid + quarantined (a bug, raised as an error, never an ``assert``)."""


@dataclass
class ValidationResult:
    """What `validate` found.

    valid       typed frame of accepted rows (categoricals with labels, nullable integers, the
                missing codes -7/-8/-9 kept), derived variables, ``line`` and any extra columns
    quarantine  one row per rejected raw row: response_id, line, reasons ('; '-joined), n_reasons
    failures    every failure as data: response_id, line, column, value, rule, message
    flags       soft warnings and quality screens on valid rows: response_id, line, flag, kind,
                columns, message
    report      counts and provenance (JSON-serialisable)
    """

    valid: pd.DataFrame
    quarantine: pd.DataFrame
    failures: pd.DataFrame
    flags: pd.DataFrame
    report: dict = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines for a terminal."""
        r = self.report
        lines = [(
            f"{r['instrument']['name']} {r['instrument']['version']}: {r['n_raw']} rows read, "
            f"{r['n_valid']} valid, {r['n_quarantined']} quarantined, "
            f"{r['n_flagged_rows']} valid rows flagged"
        )]
        top = sorted(r["failures_by_rule"].items(), key=lambda kv: -kv[1])[:5]
        if top:
            lines.append("most frequent reasons: " + ", ".join(f"{k} ({v})" for k, v in top))
        skipped = r.get("empty_records_skipped") or []
        if skipped:
            lines.append(f"{len(skipped)} empty record(s) (only separators) not counted as rows: "
                         f"line(s) {', '.join(map(str, skipped[:10]))}"
                         + (" ..." if len(skipped) > 10 else ""))
        odd = r.get("lines_with_inner_quotes") or []
        if odd:
            lines.append(f"quote characters inside fields (check the quoting) on line(s) "
                         f"{', '.join(map(str, odd[:10]))}" + (" ..." if len(odd) > 10 else ""))
        if r.get("n_records_by_line_count") is not None:
            lines.append(f"{r['n_records_read']} records read, {r['n_records_by_line_count']} by "
                         f"the count of the file's {r['n_physical_lines']} lines")
        for b in r.get("broken_records") or []:
            lines.append(f"broken quoting on line {b['line']} (column {b['column']!r}): "
                         f"{b['reason']}; quarantined, lines {b['would_swallow_lines']} read "
                         "as records of their own")
        mixed = r.get("lines_not_utf8") or []
        if mixed:
            lines.append(f"mixed encodings: {len(mixed)} line(s) are not UTF-8 and were read as "
                         f"Windows-1252 (the others as UTF-8): line(s) "
                         f"{', '.join(map(str, mixed[:10]))}" + (" ..." if len(mixed) > 10 else "")
                         + "; check their text")
        if r.get("extra_columns"):
            lines.append(f"extra columns kept: {', '.join(r['extra_columns'])}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# 2. parsing text into the coded frame

# Text that other programs write for "no value": not a code, and the fix is a missing code.
_NA_MARKERS = {"nan", "na", "n/a", "null", "none", "#n/a", "#nv", "nv", "missing"}
_NA_MESSAGE = ("{column}: {value!r} is another program's marker for a missing value, not a "
               "value: {codes}")


def _missing_words(inst, coded: bool = False) -> str:
    """How this instrument codes an unanswered and a skipped question (its own missing codes);
    ``coded``: as a description ("... is coded -9") rather than an instruction."""
    try:
        no_answer, skipped = inst.no_answer, inst.not_applicable
    except KeyError:   # a missing-code set without those kinds: list what it has
        codes = ", ".join(f"{c} ({name})" for c, name in inst.missing_set.items())
        return f"the instrument's missing codes are {codes}" if coded else f"use one of {codes}"
    if coded:
        return f"an unanswered question is coded {no_answer}, a skipped one {skipped}"
    return f"code an unanswered question {no_answer} and a skipped one {skipped}"
_PARSERS = {ins.INT_CODE: "integer", ins.NUMBER: "number", ins.DATETIME: "datetime",
            ins.DATE_ITEM: "date"}


def _failures(rows, column, values, rule, message) -> pd.DataFrame:
    rows = np.asarray(rows, dtype=np.int64)
    return pd.DataFrame({"row": rows, "column": column,
                         "value": pd.array(values, dtype="str"),
                         "rule": rule, "message": message})


def _rule(kind: str, problem: str, column: str) -> str:
    """The failure's rule name: ``dtype:<col>`` for text that is not a value of the column's
    kind, ``overflow:<col>`` for numbers too large to store, ``datetime:<col>`` and
    ``date_range:<col>`` for date-times that are not ISO 8601 or not plausible."""
    if kind == "datetime":
        return f"date_range:{column}" if problem == "out_of_range" else f"datetime:{column}"
    return f"overflow:{column}" if problem == "overflow" else f"dtype:{column}"


def _parse(raw: pd.DataFrame, inst) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Text -> the raw coded frame of `schemas.response.raw_dtypes` (Int64 codes and counts,
    float64 duration, str for string codes, ids, date-times and free text); failures as data.

    The values are parsed by `schemas.values`, the one parser of export text (validation, the
    public API and the fieldwork form agree): integers accept a leading ``+`` and a zero
    fraction (``"4.0"``), never another fraction; numbers a decimal point or comma; numbers too
    large to store (``"9" * 400``, which would be inf) are ``overflow``; date-times must be ISO
    8601 and plausible (``0000-01-01`` is out of range). Whitespace around a value is ignored;
    an empty cell is missing (NA), which the schema's not-null check judges; ``NaN``, ``NULL``
    and the like are named as another program's missing-value marker. Free text is kept verbatim.
    """

    sp = ins.spec(inst)
    coded = {}
    fails = []
    # the export's decimal mark, detected over its number columns (e.g. duration_s "812,5"),
    # decides a column whose own values cannot ("1,875" alone: 1.875 or 1875?)
    numbers = [raw[c.name] for c in sp.columns if c.kind == ins.NUMBER and c.name in raw.columns]
    hint = sv.detect_decimal(pd.concat(numbers, ignore_index=True)) if numbers else None
    for col in sp.columns:
        text = raw[col.name]
        if col.kind == ins.TEXT:
            coded[col.name] = text.fillna("").astype("str")
            continue
        kind = _PARSERS.get(col.kind)
        if kind is None:  # ids and string codes: the schema judges the trimmed text
            s = text.astype("str").str.strip()
            coded[col.name] = s.where(s != "")
            continue
        if col.kind == ins.DATE_ITEM:  # the item's range and its instrument's missing codes

            kind = col.item_type
            parsed = parse_column(text, inst, col.name)
        elif kind in ("integer", "number"):
            parsed = sv.parse_values(text, kind, column=col.name, hint=hint)
        else:
            parsed = sv.parse_values(text, kind, column=col.name)
        coded[col.name] = parsed.values
        pr = parsed.problems
        if len(pr):
            messages = pr["message"].to_numpy(dtype=object).copy()
            marker = pr["value"].str.strip().str.lower().isin(_NA_MARKERS).to_numpy(dtype=bool)
            for i in np.flatnonzero(marker):
                messages[i] = _NA_MESSAGE.format(column=col.name, value=pr["value"].iloc[i],
                                                 codes=_missing_words(inst))
            fails.append(pd.DataFrame({
                "row": pr["row"].to_numpy(dtype=np.int64), "column": col.name,
                "value": pd.array(pr["value"].to_numpy(dtype=object), dtype="str"),
                "rule": [_rule(kind, p, col.name) for p in pr["problem"]],
                "message": messages}))
    return pd.DataFrame(coded, index=raw.index), fails


# ---------------------------------------------------------------------------------------------
# 3. duplicates


_ZERO_WIDTH = "[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]"


def id_key(ids: pd.Series) -> pd.Series:
    """The key under which ids are compared for duplicates: Unicode NFKC (full-width and
    compatibility forms folded), zero-width characters and soft hyphens removed, whitespace
    stripped, case folded. The ids themselves are kept as they were.

    >>> id_key(pd.Series([" r2026-00000", "R2026\u200b-00000", "ｒ２０２６-00000"])).tolist()
    ['r2026-00000', 'r2026-00000', 'r2026-00000']
    """
    s = ids.astype("str")
    return (s.str.normalize("NFKC").str.replace(_ZERO_WIDTH, "", regex=True)
            .str.strip().str.casefold())


def _duplicates(raw: pd.DataFrame, data_cols: list[str], ids: pd.Series,
                lines: np.ndarray) -> list[pd.DataFrame]:
    fails = []
    if len(raw) == 0:
        return fails
    # Exact copies share their response_id text, so only records whose response_id occurs more
    # than once need comparing: hash their cells, then confirm candidate pairs cell by cell, so
    # that a hash collision can never quarantine a row.
    copy_of = np.full(len(raw), -1, dtype=np.int64)
    same_text_id = np.flatnonzero(raw["response_id"].duplicated(keep=False).to_numpy())
    if same_text_id.size:
        sub = raw.iloc[same_text_id][data_cols]
        h = pd.util.hash_pandas_object(sub, index=False).to_numpy()
        cand = pd.Series(h).duplicated(keep="first").to_numpy()
        first = pd.Series(np.arange(h.size)).groupby(h).transform("first").to_numpy()
        values = sub.to_numpy(dtype=object)
        for k in np.flatnonzero(cand):  # few rows: duplicates are rare
            a, b = values[k], values[first[k]]
            if all((x == y) or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b)):
                copy_of[same_text_id[k]] = same_text_id[first[k]]
    exact = copy_of >= 0
    if exact.any():
        idx = np.flatnonzero(exact)
        fails.append(pd.DataFrame({
            "row": idx, "column": "(row)", "value": pd.array([""] * idx.size, dtype="str"),
            "rule": "duplicate_row",
            "message": [f"exact copy of line {lines[copy_of[i]]}" for i in idx]}))
    # Same response_id, different content: among rows that are not exact copies. Ids are
    # compared as a person would: " R1", "r1" and "r\u200b1" are the same respondent.
    key = id_key(ids)
    keep = ~exact & key.notna().to_numpy() & (key != "").to_numpy()
    k = key[keep]
    shared = k.duplicated(keep=False)
    if shared.any():
        rows = np.flatnonzero(keep)[shared.to_numpy()]
        groups = pd.Series(lines[rows]).groupby(k[shared].to_numpy()).agg(list)
        fails.append(pd.DataFrame({
            "row": rows, "column": "response_id",
            "value": pd.array(ids.iloc[rows].to_numpy(dtype=object), dtype="str"),
            "rule": "duplicate_response_id",
            "message": [("response_id shared by records that differ, lines "
                         + ", ".join(map(str, groups[key.iloc[r]]))) for r in rows]}))
    return fails


# ---------------------------------------------------------------------------------------------
# 4. the pandera schema


def _schema_failures(coded: pd.DataFrame, inst, raw: pd.DataFrame) -> list[pd.DataFrame]:
    """Run the instrument's schema lazily and turn its failure cases into per-row failures."""
    import pandera.errors as pe  # noqa: PLC0415 - pandera loads only when its errors are read


    schema = _cached_schema(inst, response_schema)
    try:
        schema.validate(coded, lazy=True)
        return []
    except pe.SchemaErrors as err:  # lazy validation: every failure case
        cases = err.failure_cases
    except pe.SchemaError as err:  # a single error that stopped validation early
        cases = _single_error_cases(err)
    return _map_cases(cases, inst, raw)


def _single_error_cases(err) -> pd.DataFrame:
    """A non-lazy SchemaError in failure_cases layout (pandera raises one, not SchemaErrors, when
    validation cannot go on, e.g. a column-level check on a column that is not there)."""
    fc = err.failure_cases
    on_column = type(err.schema).__name__ in ("Column", "SeriesSchema")
    check = getattr(err.check, "error", None) or getattr(err.check, "name", None) or str(err.check)
    if isinstance(fc, pd.DataFrame) and "index" in fc.columns:
        return pd.DataFrame({
            "schema_context": "Column" if on_column else "DataFrameSchema",
            "column": getattr(err.schema, "name", None) if on_column else None,
            "check": check, "check_number": None,
            "failure_case": fc.get("failure_case"), "index": fc["index"]})
    return pd.DataFrame([{"schema_context": type(err.schema).__name__,
                          "column": getattr(err.schema, "name", None), "check": check,
                          "check_number": None, "failure_case": str(err), "index": None}])


_SCHEMAS: dict[int, tuple[object, object]] = {}


def _cached_schema(inst, factory):
    hit = _SCHEMAS.get(id(inst))
    if hit is None or hit[0] is not inst:
        hit = (inst, factory(inst))
        _SCHEMAS.clear()
        _SCHEMAS[id(inst)] = hit
    return hit[1]


# pandera's own checks, which carry no description of ours
_PANDERA_MESSAGES = {
    "not_nullable": "empty cell ({codes})",
    "field_uniqueness": "response_id occurs more than once",
}


def _map_cases(cases: pd.DataFrame, inst, raw: pd.DataFrame) -> list[pd.DataFrame]:
    specs = {sp.name: sp for sp in check_specs(inst)}
    multi_cols = {c for _, opts in ins.multi_items(inst) for c in
                  [f"{_}__{o}" for o in opts]}
    cases = cases.copy()
    has_index = cases["index"].notna()
    # schema-level problems without a row (a missing column, a wrong dtype) mean the coded
    # frame is not what the schema expects: a bug here, not a data problem, so it is raised.
    if (~has_index).any():
        bad = cases[~has_index]
        raise RuntimeError("schema failed without row index (coded frame does not match the "
                           f"schema): {bad[['column', 'check', 'failure_case']].to_dict('records')}")
    split = [split_check(c) for c in cases["check"].astype(str)]
    cases["rule"] = [n for n, _ in split]
    cases["message"] = [d or _PANDERA_MESSAGES.get(n, "").format(codes=_missing_words(inst, coded=True))
                        for n, d in split]
    out = []
    col_level = (cases["schema_context"] == "Column").to_numpy()
    c = cases[col_level]
    if len(c):
        rows = c["index"].to_numpy(dtype=np.int64)
        cols = c["column"].astype(str).to_numpy()
        out.append(pd.DataFrame({
            "row": rows, "column": cols,
            "value": pd.array(_raw_values(raw, rows, cols), dtype="str"),
            "rule": c["rule"].to_numpy(dtype=object),
            "message": c["message"].to_numpy(dtype=object)}))
    # frame-level failures are melted into one case per column: one failure per (check, row)
    d = cases[~col_level].drop_duplicates(["rule", "index"])
    for rule, g in d.groupby("rule", sort=False):
        rows = g["index"].to_numpy(dtype=np.int64)
        sp = specs.get(rule)
        cols = tuple(dict.fromkeys(x for x in (sp.columns if sp else ()) if x in raw.columns))
        out.append(pd.DataFrame({
            "row": rows, "column": cols[0] if cols else "(row)",
            "value": pd.array(_joined_values(raw, rows, cols, multi_cols), dtype="str"),
            "rule": rule, "message": g["message"].iloc[0], "_joined": True}))
    return out


def _raw_values(raw: pd.DataFrame, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    values = np.empty(rows.size, dtype=object)
    for col in np.unique(cols):
        m = cols == col
        values[m] = raw[col].to_numpy(dtype=object)[rows[m]]
    return values


def _joined_values(raw: pd.DataFrame, rows: np.ndarray, cols, multi_cols) -> list[str]:
    """``a=1, b=2`` for each row. Options of a multi-choice item that all hold the same value are
    written once as ``item__*=value``; otherwise unticked (0) options are left out."""
    if not cols:
        return [""] * rows.size
    groups: dict[str, list[str]] = {}
    for c in cols:
        key = c.split("__", 1)[0] + "__*" if c in multi_cols else c
        groups.setdefault(key, []).append(c)
    parts = []
    for key, members in groups.items():
        v = np.column_stack([raw[c].to_numpy(dtype=object)[rows] for c in members])
        if len(members) == 1:
            parts.append(np.array([f"{members[0]}={x}" for x in v[:, 0]], dtype=object))
            continue
        same = (v == v[:, :1]).all(axis=1)
        text = np.empty(rows.size, dtype=object)
        for i in range(rows.size):  # failing rows only
            if same[i]:
                text[i] = f"{key}={v[i, 0]}"
            else:
                text[i] = ", ".join(f"{c}={x}" for c, x in zip(members, v[i])
                                    if str(x).strip() != "0")
        parts.append(text)
    stacked = np.column_stack(parts)
    return [", ".join(p for p in row if p) for row in stacked]


# ---------------------------------------------------------------------------------------------


def validate(raw: pd.DataFrame, inst, lang: str = "de") -> ValidationResult:
    """Validate a raw export (from `read_export`) against ``inst``.

    ``lang`` is the language of the category labels of the typed valid frame.

    >>> import schemas
    >>> from surveydata import read_export
    >>> inst = schemas.load_instrument()
    >>> res = validate(read_export("tests/data/example_export_de.csv", inst), inst)
    >>> res.report["n_raw"], res.report["n_valid"], res.report["n_quarantined"]
    (41, 36, 5)
    >>> res.quarantine.loc[4, "reasons"]
    'record: duplicate_row (exact copy of line 12)'
    """
    raw = raw.reset_index(drop=True)
    expected, extra, lines = _columns(raw, inst)
    dup_fails = _duplicates(raw, expected + extra, raw["response_id"], lines)
    part = _validate_part(raw, inst, lang, dup_fails, screen_speeders=True)
    _check_counts(len(raw), len(part.valid), len(part.quarantine))
    report = _report(len(raw), len(part.valid), raw.attrs.get("export", {}), inst,
                     part.failures, part.quarantine, part.flags, extra)
    return ValidationResult(valid=part.valid, quarantine=part.quarantine.reset_index(drop=True),
                            failures=part.failures.drop(columns=["row", "_joined"]),
                            flags=part.flags, report=report)


def _columns(raw, inst):
    """The instrument's columns (a missing one is an ExportError), extra columns, lines."""
    expected = [c.name for c in ins.spec(inst).columns]
    missing = [c for c in expected if c not in raw.columns]
    if missing:
        src = raw.attrs.get("export", {}).get("path", "<frame>")
        raise ExportError(src, f"missing required column(s): {', '.join(missing)}", line=1,
                          column=missing[0])
    n = len(raw)
    lines = (raw[LINE_COLUMN].to_numpy(dtype=np.int64) if LINE_COLUMN in raw.columns
             else np.arange(2, n + 2, dtype=np.int64))
    extra = [c for c in raw.columns if c not in set(expected) | {LINE_COLUMN, ROW_ERROR_COLUMN}]
    return expected, extra, lines


def _check_counts(n_raw: int, n_valid: int, n_quarantined: int) -> None:
    if n_valid + n_quarantined != n_raw:
        raise ValidationInvariantError(
            f"{n_raw} rows read but {n_valid} valid + {n_quarantined} quarantined: a bug in "
            "validation, not in the data; please report it with the export")


@dataclass
class _Part:
    valid: pd.DataFrame
    quarantine: pd.DataFrame
    failures: pd.DataFrame
    flags: pd.DataFrame
    durations: pd.DataFrame  # response_id, line, duration_s of the valid rows (for speeders)
    coded_valid: pd.DataFrame  # the raw coded valid rows (for derived variables over pieces)


def _validate_part(raw, inst, lang, dup_fails, screen_speeders) -> _Part:
    """Steps 1, 2 and 4 on ``raw`` (a whole export or a piece), with the duplicates' failures
    (step 3, found over the whole export) given."""

    n = len(raw)
    _, extra, lines = _columns(raw, inst)
    fails: list[pd.DataFrame] = []
    if ROW_ERROR_COLUMN in raw.columns:
        err = raw[ROW_ERROR_COLUMN].fillna("")
        bad = np.flatnonzero((err != "").to_numpy())
        if bad.size:
            fails.append(pd.DataFrame({"row": bad, "column": "(row)",
                                       "value": pd.array([""] * bad.size, dtype="str"),
                                       "rule": "malformed_record",
                                       "message": err.iloc[bad].to_numpy(dtype=object)}))
    coded, parse_fails = _parse(raw, inst)
    fails += parse_fails
    fails += dup_fails
    schema_fails = _schema_failures(coded, inst, raw)
    # A cell that did not parse is NA in the coded frame; the schema's complaint about that NA
    # would only repeat the parse failure, so it is dropped. Likewise its uniqueness check on
    # response_id repeats step 3, which says more (first copy kept, lines of the others).
    unparsed = set()
    for f in parse_fails:
        unparsed.update(zip(f["row"].tolist(), f["column"].tolist()))
    for f in schema_fails:
        keep = np.ones(len(f), dtype=bool)
        if unparsed:
            keep &= np.array([(r, c) not in unparsed for r, c in zip(f["row"], f["column"])],
                             dtype=bool)
        keep &= ~((f["column"] == "response_id") & (f["rule"] == "field_uniqueness")).to_numpy()
        if keep.any():
            fails.append(f[keep])

    failures = _assemble(fails, raw, lines)
    bad_rows = np.zeros(n, dtype=bool)
    bad_rows[failures["row"].to_numpy(dtype=np.int64)] = True
    quarantine = _quarantine(failures, raw, lines)
    valid_idx = np.flatnonzero(~bad_rows)
    _check_counts(n, len(valid_idx), len(quarantine))
    if not bad_rows[quarantine.index.to_numpy()].all():
        raise ValidationInvariantError("a quarantined row without a failure: a bug in validation")

    valid = _typed(coded.iloc[valid_idx], inst, lang)
    valid.insert(0, LINE_COLUMN, lines[valid_idx])
    for c in extra:  # kept as the text they were
        valid[c] = pd.array(raw[c].iloc[valid_idx].to_numpy(dtype=object), dtype="str")
    valid = valid.reset_index(drop=True)
    coded_valid = coded.iloc[valid_idx].reset_index(drop=True)
    flags = quality.flags(coded_valid, inst, lines[valid_idx], screen_speeders=screen_speeders)
    # duration_s is optional metadata: without it there is nothing to screen for speeders
    seconds = (pd.to_numeric(coded_valid["duration_s"], errors="coerce").astype(float)
               if "duration_s" in coded_valid.columns else np.full(len(coded_valid), np.nan))
    durations = pd.DataFrame({"response_id": coded_valid["response_id"].astype("str"),
                              "line": lines[valid_idx], "duration_s": seconds})
    return _Part(valid, quarantine, failures, flags, durations, coded_valid)


def _global_derived(inst):
    """Derived variables computed over the whole frame (``zmean``: components standardised by
    their mean and sd in the frame), with their components as derived entries of their own:
    in pieces, the components are computed per piece and the variable at the end."""

    out = {}
    for d in compile_instrument(inst):
        if "zmean" not in d.compute:
            continue
        comps = [c if isinstance(c, dict) else {"expr": c} for c in d.compute["zmean"]]
        out[d.var] = compile_entries([{"var": f"zcomponent{i}", "type": "number", "compute": c}
                                      for i, c in enumerate(comps)], inst)
    return out


def _zmean(columns: list[np.ndarray]) -> np.ndarray:
    """As `schemas.derived`'s zmean over all rows: mean of z-scores (sd with ddof 1; a
    component without variation gives 0; NaN where any component is NaN)."""
    z = []
    for c in columns:
        sd = np.nanstd(c, ddof=1) if np.sum(~np.isnan(c)) > 1 else np.nan
        z.append((c - np.nanmean(c)) / sd if sd > 0 else c * 0.0)
    return sum(z) / len(z)


def _write_valid(pieces_path, valid_path, patches: dict[str, np.ndarray]) -> None:
    """Copy the pieces' Parquet file to ``valid_path``, batch by batch, with the whole-export
    values of the ``patches`` columns."""
    import pyarrow as pa  # noqa: PLC0415 - Parquet loads only when pieces are written
    import pyarrow.parquet as pq  # noqa: PLC0415 - Parquet loads only when pieces are written

    pf = pq.ParquetFile(pieces_path)
    at = 0
    with pq.ParquetWriter(valid_path, pf.schema_arrow) as writer:
        for batch in pf.iter_batches(batch_size=1 << 16):
            table = pa.Table.from_batches([batch], schema=pf.schema_arrow)
            for name, values in patches.items():
                i = table.schema.get_field_index(name)
                table = table.set_column(i, table.schema.field(i), pa.array(
                    values[at:at + table.num_rows], type=table.schema.field(i).type,
                    from_pandas=True))
            writer.write_table(table)
            at += table.num_rows
        if pf.metadata.num_rows == 0:
            writer.write_table(pf.schema_arrow.empty_table())


def validate_chunks(chunks, inst, lang: str = "de", valid_path=None) -> ValidationResult:
    """Validate an export read in pieces (`surveydata.io.ExportChunks`) with bounded memory.

    The result equals `validate` on the whole file (up to the row order within equal lines).
    Three reads of the file: the ids of every record (a 64-bit hash of `id_key` each); the
    records whose id hash occurs more than once (few), on which duplicates are found exactly as
    in `validate` (cell by cell, so a hash collision never quarantines a row); then each piece
    is validated with its duplicates' failures. Speeders are screened at the end against the
    median duration of all valid rows, and derived variables standardised over all valid rows
    (``zmean``) are computed at the end from their components. With ``valid_path``, the valid
    typed rows are written there as Parquet piece by piece (and ``result.valid`` is empty);
    without, the pieces are concatenated.

    >>> import schemas
    >>> from surveydata.io import ExportChunks
    >>> inst = schemas.load_instrument()
    >>> chunks = ExportChunks("tests/data/example_export_de.csv", inst, chunk_bytes=4096)
    >>> r = validate_chunks(chunks, inst).report
    >>> r["n_raw"], r["n_valid"], r["n_quarantined"]
    (41, 36, 5)
    """

    # 1. the ids
    hashes, sizes = [], []
    for piece in chunks:
        hashes.append(pd.util.hash_array(id_key(piece["response_id"]).to_numpy(dtype=object)))
        sizes.append(len(piece))
    if not sizes:  # a header and no records (a platform's export before the first response)
        return _no_records(chunks, inst, lang, valid_path)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    h = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    del hashes
    _, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
    candidates = np.flatnonzero(counts[inverse] > 1)
    del h, inverse, counts
    # 2. duplicates among the candidates, exactly
    dup_by_piece: dict[int, list[pd.DataFrame]] = {}
    if candidates.size:
        subsets, positions = [], []
        for k, piece in enumerate(chunks):
            local = candidates[(candidates >= starts[k]) & (candidates < starts[k + 1])] - starts[k]
            if local.size:
                subsets.append(piece.iloc[local])
                positions.append(local + starts[k])
        sub = pd.concat(subsets, ignore_index=True)
        pos = np.concatenate(positions)
        expected, extra, lines = _columns(sub, inst)
        for f in _duplicates(sub, expected + extra, sub["response_id"], lines):
            glob = pos[f["row"].to_numpy(dtype=np.int64)]
            piece_of = np.searchsorted(starts, glob, side="right") - 1
            for k in np.unique(piece_of):
                g = f[piece_of == k].copy()
                g["row"] = glob[piece_of == k] - starts[k]
                dup_by_piece.setdefault(int(k), []).append(g.reset_index(drop=True))
    # 3. each piece
    import pyarrow as pa  # noqa: PLC0415 - Parquet loads only when pieces are written
    import pyarrow.parquet as pq  # noqa: PLC0415 - Parquet loads only when pieces are written


    global_vars = _global_derived(inst)
    components = {v: [] for v in global_vars}
    quarantines, failures, flags, durations, valids = [], [], [], [], []
    n_raw = n_valid = 0
    extra = []
    writer = schema = None
    pieces_path = None if valid_path is None else f"{valid_path}.pieces"
    try:
        for k, piece in enumerate(chunks):
            piece = piece.reset_index(drop=True)
            part = _validate_part(piece, inst, lang, dup_by_piece.get(k, []),
                                  screen_speeders=False)
            _, extra, _ = _columns(piece, inst)
            n_raw += len(piece)
            n_valid += len(part.valid)
            for var, entries in global_vars.items():
                comp = derive(part.coded_valid, (inst, entries))
                components[var].append(comp.to_numpy(dtype="float64", na_value=np.nan))
            if pieces_path is None:
                valids.append(part.valid)
            else:
                table = pa.Table.from_pandas(part.valid, preserve_index=False)
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(pieces_path, schema)
                    valids.append(part.valid.iloc[:0])
                writer.write_table(table.cast(schema))
            quarantines.append(part.quarantine.reset_index(drop=True))
            failures.append(part.failures.drop(columns=["_joined"]).assign(
                row=part.failures["row"] + n_raw - len(piece)))
            flags.append(part.flags)
            durations.append(part.durations)
    finally:
        if writer is not None:
            writer.close()
    patches = {}
    for var in global_vars:
        if components[var]:
            cols = np.concatenate(components[var], axis=0)
            patches[var] = _zmean([cols[:, j] for j in range(cols.shape[1])])
    if pieces_path is not None and writer is not None:
        _write_valid(pieces_path, valid_path, patches)

        os.unlink(pieces_path)
    elif valids:
        for var, values in patches.items():
            at = 0
            for v in valids:
                v[var] = values[at:at + len(v)]
                at += len(v)
    d = pd.concat(durations, ignore_index=True) if durations else None
    if d is not None and len(d):
        flags.append(quality.speeder_flags(d["response_id"], d["line"], d["duration_s"]))
    flags = [f for f in flags if len(f)]
    flag_frame = (pd.concat(flags, ignore_index=True).sort_values(["line", "flag"], kind="stable")
                  .reset_index(drop=True) if flags else quality.flags(
                      pd.DataFrame(), inst, np.zeros(0, dtype=np.int64)))
    quarantine = pd.concat(quarantines, ignore_index=True)
    fail_frame = pd.concat(failures, ignore_index=True)
    _check_counts(n_raw, n_valid, len(quarantine))
    report = _report(n_raw, n_valid, chunks.info, inst, fail_frame, quarantine, flag_frame, extra)
    valid = pd.concat(valids, ignore_index=True) if valids else pd.DataFrame()
    return ValidationResult(valid=valid, quarantine=quarantine,
                            failures=fail_frame.drop(columns=["row"]), flags=flag_frame,
                            report=report)


def _no_records(chunks, inst, lang, valid_path) -> ValidationResult:
    """`validate` of an export without records: empty outputs with the instrument's columns."""

    result = validate(read_export(chunks.path, inst, format=chunks.format, rename=chunks.rename), inst, lang)
    if valid_path is not None:
        result.valid.to_parquet(valid_path, index=False)
        result.valid = result.valid.iloc[:0]
    return result


def _assemble(fails, raw, lines) -> pd.DataFrame:
    if fails:
        f = pd.concat(fails, ignore_index=True)
    else:
        f = pd.DataFrame({"row": pd.Series(dtype=np.int64), "column": pd.Series(dtype="str"),
                          "value": pd.Series(dtype="str"), "rule": pd.Series(dtype="str"),
                          "message": pd.Series(dtype="str")})
    f["_joined"] = (f["_joined"].fillna(False).astype(bool) if "_joined" in f.columns
                    else False)
    f = f.sort_values(["row"], kind="stable").reset_index(drop=True)
    rows = f["row"].to_numpy(dtype=np.int64)
    f.insert(0, "line", lines[rows])
    f.insert(0, "response_id", pd.array(raw["response_id"].to_numpy(dtype=object)[rows],
                                        dtype="str"))
    for c in ("column", "value", "rule", "message"):
        f[c] = f[c].astype("str")
    return f[["row", *FAILURE_COLUMNS, "_joined"]]


def reason_text(failures: pd.DataFrame) -> pd.Series:
    """One line per failure: ``column='value': rule (message)``; a cross-column check names its
    values itself: ``q7=1, q2=1: skip_not_asked:q7 (...)``."""
    value = failures["value"].fillna("")
    single = failures["column"] + "=" + "'" + value + "'"
    joined = (failures["_joined"].to_numpy(dtype=bool) if "_joined" in failures.columns
              else np.zeros(len(failures), dtype=bool))
    text = single.where(~joined, value)
    text = text.where(failures["column"] != "(row)", "record")  # duplicates, malformed records
    text = text + ": " + failures["rule"]
    msg = failures["message"].fillna("")
    return text.where(msg == "", text + " (" + msg + ")")


def _quarantine(failures, raw, lines) -> pd.DataFrame:
    if len(failures) == 0:
        return pd.DataFrame({"response_id": pd.Series(dtype="str"),
                             "line": pd.Series(dtype=np.int64),
                             "reasons": pd.Series(dtype="str"),
                             "n_reasons": pd.Series(dtype=np.int64)})
    reasons = reason_text(failures)
    grouped = reasons.groupby(failures["row"].to_numpy(), sort=True)
    joined = grouped.agg("; ".join)
    counts = grouped.size()
    rows = joined.index.to_numpy(dtype=np.int64)
    q = pd.DataFrame({"response_id": pd.array(raw["response_id"].to_numpy(dtype=object)[rows],
                                              dtype="str"),
                      "line": lines[rows], "reasons": joined.to_numpy(dtype=object),
                      "n_reasons": counts.to_numpy()}, index=rows)
    q["reasons"] = q["reasons"].astype("str")
    return q


def _typed(coded_valid: pd.DataFrame, inst, lang: str) -> pd.DataFrame:
    """`schemas.to_typed` (labelled categoricals, Int64, boolean options, and a ``<var>__missing``
    column keeping not_applicable / dont_know / no_answer apart) plus `schemas.derive`."""

    typed = schemas.to_typed(coded_valid, inst, lang=lang)
    derived = schemas.derive(coded_valid, inst, lang=lang)
    return pd.concat([typed, derived], axis=1)


def _report(n_raw, n_valid, src, inst, failures, quarantine, flags, extra) -> dict:
    by_rule = failures.groupby("rule").size().sort_index()
    rows_by_rule = failures.drop_duplicates(["row", "rule"]).groupby("rule").size()
    return {
        "instrument": {"name": ins.spec(inst).name, "version": ins.spec(inst).version},
        "input": {k: src.get(k) for k in ("path", "format", "encoding", "separator")},
        "input_sha256": src.get("sha256"),
        "n_raw": n_raw,
        "n_valid": n_valid,
        "n_quarantined": len(quarantine),
        "n_failures": len(failures),
        "failures_by_rule": {k: int(v) for k, v in by_rule.items()},
        "quarantined_rows_by_rule": {k: int(v) for k, v in rows_by_rule.sort_index().items()},
        "failures_by_column": {k: int(v) for k, v in
                               failures.groupby("column").size().sort_index().items()},
        "n_flags": len(flags),
        "n_flagged_rows": int(flags["line"].nunique()) if len(flags) else 0,
        "flags_by_rule": {k: int(v) for k, v in flags.groupby("flag").size().sort_index().items()},
        "extra_columns": list(extra),
        "empty_records_skipped": list(src.get("empty_records_skipped", [])),
        "lines_with_inner_quotes": list(src.get("lines_with_inner_quotes", [])),
        "renamed_columns": dict(src.get("renamed_columns", {})),
        # the reading protocol's accounting (surveydata._records): records read and counted
        # a second way from the physical lines; broken records; lines not in UTF-8
        "n_records_read": n_raw,
        "n_records_by_line_count": src.get("n_records_by_line_count"),
        "n_physical_lines": src.get("n_physical_lines"),
        "n_blank_lines": src.get("blank_lines"),
        "broken_records": list(src.get("broken_records", [])),
        "lines_not_utf8": list(src.get("lines_not_utf8", [])),
    }

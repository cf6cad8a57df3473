"""Read what survey platforms and spreadsheets actually export, losing nothing.

`read_export(path, inst)` returns the *raw* frame: every cell as the text that was in the file
(no type conversion, no trimming, no missing-value guessing), one row per record, plus

* ``line``: where the record starts in the file, counting the header as line 1. Quoted fields
  with embedded newlines are counted correctly (a record spanning lines 7-9 has ``line == 7``).
  For SPSS/Stata files, which have no lines, ``line`` is the case number + 1, so that it matches
  the line of the same case in a CSV export with a header.
* ``_row_error``: empty, or why the record is malformed (more or fewer fields than the header).
  A malformed record is kept (and later quarantined), never dropped.

Blank lines are not records. Neither are records holding nothing but separators and whitespace
(``;;;;`` rows that Excel leaves below the data): their lines are listed in
``raw.attrs["export"]["empty_records_skipped"]`` and in the validation report.

``raw.attrs["export"]`` records the provenance: path, sha256 of the file's bytes, detected
format, encoding and separator, unknown extra columns, columns renamed from a platform's naming
convention (``var[option]``, ``var_option``, ``varoption`` -> ``var__option``), skipped empty
records, and lines where a quote character sits inside a field.

Quoting is read as Excel, LibreOffice and pyarrow read it: ``"a;b"`` is one field, ``""`` inside
quotes is a quote, and broken quoting such as ``"ab"c`` becomes ``abc`` (such lines are listed
in ``lines_with_inner_quotes``). A quote that is never closed is an `ExportError` at its line.
Large CSV files are parsed by pyarrow's reader when that provably gives the same records and
line numbers as Python's csv module, which is used otherwise (see `_parse_csv_fast`).

Formats (``format=None`` detects them):

``csv``
    Comma, semicolon or tab separated (sniffed from the header, preferring the separator that
    yields the instrument's column names), UTF-8 with or without BOM, UTF-16 with BOM (Excel's
    "Unicode text"), otherwise Windows-1252. Quoted fields may contain separators, doubled quotes
    and newlines. Decimal commas and stray whitespace are left in the text; `validate` parses them.
``limesurvey``
    LimeSurvey's "CSV" response export with "Question code" headings and "Answer codes"
    (see `_limesurvey` below for the exact mapping). Detected by LimeSurvey's fixed columns
    ``id`` and ``submitdate``.
``spss`` / ``stata``
    ``.sav``/``.zsav``/``.por`` and ``.dta`` through pyreadstat; numbers are written back as text
    without a spurious ``.0``, and system-missing values become empty cells.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from surveydata import _instrument as ins
from surveydata.errors import SurveyDataError

__all__ = ["FORMATS", "ExportError", "read_export"]

FORMATS = ("csv", "limesurvey", "spss", "stata")
SEPARATORS = (",", ";", "\t")
LINE_COLUMN = "line"
_FAST = True  # try pyarrow's CSV reader first (tests switch it off to compare both paths)
ROW_ERROR_COLUMN = "_row_error"


class ExportError(SurveyDataError):
    """An export that cannot be read: names the file, line and column, and what was expected.

    >>> str(ExportError("x.csv", "missing required column", line=1, column="duration_s"))
    "x.csv, line 1, column 'duration_s': missing required column"
    """

    def __init__(self, file, message, line=None, column=None):
        self.file, self.line, self.column, self.message = str(file), line, column, message
        where = [self.file]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(", ".join(where) + ": " + message)


# ---------------------------------------------------------------------------------------------
# bytes -> text


def _decode(data: bytes, path) -> tuple[str, str]:
    """Decode with the encoding the bytes prove: BOMs first, then strict UTF-8, then cp1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, "utf-8-sig", path), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, "utf-16", path), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Excel on German Windows writes Windows-1252. Its five undefined bytes mean
    # the file is something else, which we refuse rather than guess.
    return _strict(data, "cp1252", path), "cp1252"


def _strict(data: bytes, encoding: str, path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ExportError(
            path, f"byte 0x{data[err.start]:02x} at offset {err.start} is not valid {encoding} "
            "(expected UTF-8, UTF-8 with BOM, UTF-16 with BOM or Windows-1252)", line=line
        ) from None


# ---------------------------------------------------------------------------------------------
# text -> records


def _first_record(text: str) -> str:
    """The header record (may span lines if a quoted name contains a newline)."""
    end = 0
    in_quotes = False
    for end, ch in enumerate(text):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch in "\r\n" and not in_quotes:
            return text[:end]
    return text[: end + 1]


def _sniff_separator(header: str, wanted: set[str]) -> str:
    """The separator that splits the header into the most known names, then the most fields."""
    best, best_key = ",", (-1, -1)
    for sep in SEPARATORS:
        names = next(csv.reader([header], delimiter=sep), [])
        names = [_clean_name(n) for n in names]
        key = (sum(n in wanted or _base_name(n) in wanted for n in names), len(names))
        if key > best_key:
            best, best_key = sep, key
    return best


def _clean_name(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip()


def _base_name(name: str) -> str:
    return name.split("[", 1)[0]


@dataclass
class _Records:
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    empty_lines: list[int]  # records with nothing but separators and whitespace (not rows)


def _parse_csv(text: str, sep: str, path) -> _Records:
    """Split into records with csv (quotes, doubled quotes, embedded newlines) and record lines."""
    # Not strict: a stray quote after a closing quote (`"ab"c`) is read as Excel, LibreOffice
    # and pyarrow read it (`abc`); `_odd_quotes` lists such lines in the export info.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=False)
    rows, lines, empty = [], [], []
    previous_end = 0
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not record:  # a blank line is not a record
                continue
            if not record[0].strip() and all(not f.strip() for f in record) and rows:
                empty.append(start)  # ";;;;" rows that Excel leaves below the data
                continue
            rows.append(record)
            lines.append(start)
    except csv.Error as err:
        raise ExportError(path, f"cannot split into fields: {err}", line=reader.line_num) from None
    if not rows:
        raise ExportError(path, "the file is empty (no header line)", line=1)
    last = rows[-1]
    if len(rows) > 1 and len(last) < len(rows[0]) and re.search(r"[\r\n]", last[-1]):
        # an opening quote that is never closed swallows the rest of the file into one field
        raise ExportError(path, "a quoted field opened here is never closed: the rest of the "
                          f"file ({_newlines(last[-1])} more lines) would be one field",
                          line=lines[-1])
    header = [_clean_name(n) for n in rows[0]]
    return _Records(header, rows[1:], lines[1:], empty)


def _odd_quotes(text: str, sep: str) -> list[int]:
    """Lines holding a quote between two ordinary characters (``b"c``): legal inside an unquoted
    field, but also the mark of broken quoting (``"ab"c``), which CSV readers silently repair.
    Listed (as the line of the quote) so that nothing is repaired unseen."""
    ordinary = f"[^{re.escape(sep)}\"\r\n]"
    where = [m.start() + 1 for m in re.finditer(f'{ordinary}"{ordinary}', text)]
    if not where:
        return []
    breaks = np.array([m.start() for m in re.finditer(r"\r\n|\r|\n", text)], dtype=np.int64)
    return sorted(set((np.searchsorted(breaks, where) + 1).tolist()))


def _newlines(text: str) -> int:
    """Line breaks as csv counts them: \n, \r\n and a lone \r each end one line."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _parse_csv_fast(text: str, sep: str, header: list[str]) -> pd.DataFrame | None:
    """The same frame as `_parse_csv` + `_frame`, parsed by pyarrow's CSV reader (C++).

    Used only when its result provably matches the exact path; returns None otherwise, and the
    caller falls back: the header must be one physical line with distinct names, every record
    must have the header's width (pyarrow refuses others), and the file's line breaks must
    equal one per record plus those inside quoted values, which rules out blank lines and makes
    ``line`` exact: record i starts on line 2 + i + (line breaks inside the records before it).
    Records of nothing but separators and whitespace are taken out as in the exact path.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    first_line = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    if _first_record(text) != first_line or len(set(header)) != len(header) or "" in header:
        return None
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=True,
                                             ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # a record of the wrong width, or quoting pyarrow reads differently
    n = table.num_rows
    inside = np.zeros(n, dtype=np.int64)
    for col in table.columns:
        inside += (pc.count_substring(col, "\n").to_numpy(zero_copy_only=False)
                   + pc.count_substring(col, "\r").to_numpy(zero_copy_only=False)
                   - pc.count_substring(col, "\r\n").to_numpy(zero_copy_only=False))
    ends_open = not text.endswith(("\n", "\r"))
    if _newlines(text) != 1 + n + int(inside.sum()) - (1 if ends_open and n else 0):
        return None  # blank lines (or a quoting subtlety): the exact path numbers them
    lines = 2 + np.arange(n, dtype=np.int64) + np.concatenate([[0], np.cumsum(inside)[:-1]])
    blank = np.ones(n, dtype=bool)
    for col in table.columns:
        blank &= pc.equal(pc.utf8_trim_whitespace(col), "").to_numpy(zero_copy_only=False)
    keep = ~blank
    data = {LINE_COLUMN: lines[keep]}
    for name, col in zip(header, table.columns):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        arr = arr.filter(pa.array(keep)) if blank.any() else arr
        data[name] = pd.array(pd.arrays.ArrowStringArray(arr.cast(pa.large_string())),
                              dtype="str")
    data[ROW_ERROR_COLUMN] = pd.array([""] * int(keep.sum()), dtype="str")
    frame = pd.DataFrame(data)
    frame.attrs["empty_lines"] = lines[blank].tolist()
    return frame


def _frame(rec: _Records, path) -> pd.DataFrame:
    """Records -> all-text frame; records of the wrong width are padded/cut and marked."""
    width = len(rec.header)
    dupes = sorted({n for n in rec.header if rec.header.count(n) > 1})
    if dupes:
        raise ExportError(path, f"column name(s) appear more than once: {dupes}", line=1,
                          column=dupes[0])
    blank = [i for i, n in enumerate(rec.header) if n == ""]
    if blank:
        raise ExportError(path, f"header field {blank[0] + 1} has no column name", line=1)
    n_fields = np.fromiter((len(r) for r in rec.rows), dtype=np.int64, count=len(rec.rows))
    errors = np.full(len(rec.rows), "", dtype=object)
    bad = np.flatnonzero(n_fields != width)
    rows = rec.rows
    if bad.size:
        rows = list(rows)
        for i in bad:  # only the malformed records, which are few
            errors[i] = f"record has {n_fields[i]} fields, the header has {width}"
            extra = rows[i][width:]
            rows[i] = (rows[i] + [""] * width)[:width]
            if extra:  # keep what would be lost in the message: nothing silent
                errors[i] += f" (extra fields: {extra!r})"
    columns = list(zip(*rows)) if rows else [()] * width
    data = {LINE_COLUMN: np.asarray(rec.lines, dtype=np.int64)}
    for name, values in zip(rec.header, columns):
        data[name] = pd.array(list(values), dtype="str")
    data[ROW_ERROR_COLUMN] = pd.array(errors.tolist(), dtype="str")
    return pd.DataFrame(data)


# ---------------------------------------------------------------------------------------------
# platform conventions


def _multi_column_aliases(expected: list[str], present: set[str], inst) -> dict[str, str]:
    """Map a platform's multi-choice column names to ours, ``var__option``.

    LimeSurvey's "question code" heading writes ``var[option]``; its Expression-Manager heading
    writes ``var_option``; its SPSS export and many hand-made sheets write ``varoption``.
    A name is renamed only when our name is absent, so nothing already right is touched.
    """
    renames = {}
    for var, option in ins.multi_columns(inst):
        ours = f"{var}__{option}"
        if ours in present:
            continue
        for theirs in (f"{var}[{option}]", f"{var}_{option}", f"{var}{option}"):
            if theirs in present:
                renames[theirs] = ours
                break
    return renames


# LimeSurvey's fixed response-table columns that carry our metadata.
_LIMESURVEY_META = {"id": "response_id", "submitdate": "submitted_at",
                    "interviewtime": "duration_s"}


def _looks_like_limesurvey(header: list[str]) -> bool:
    return {"id", "submitdate"} <= set(header)


def _limesurvey(raw: pd.DataFrame, inst) -> tuple[pd.DataFrame, dict[str, str]]:
    """Translate LimeSurvey's answer-code export into our coding.

    What LimeSurvey writes (its CsvWriter/Writer classes): a UTF-8 BOM, every field in double
    quotes, ``;`` or ``,`` between fields, CRLF line ends and one blank line at the end; headings
    ``id, submitdate, lastpage, startlanguage, seed, ...`` then one column per question, and for a
    multiple-choice question one column per subquestion, ``var[option]`` (``var_option`` with
    Expression-Manager codes). A ticked subquestion holds ``Y``; an unticked one is empty, and so
    is every column of a question that was not shown (relevance false) or not answered.
    With the export options "convert Y to"/"convert N to" the values may be ``1``/``0``.

    Our mapping:
    * ``id`` -> ``response_id``, ``submitdate`` -> ``submitted_at`` (``YYYY-MM-DD HH:MM:SS``
      becomes ISO ``YYYY-MM-DDTHH:MM:SS``; an empty submitdate is an incomplete response, which
      stays empty and is quarantined), ``interviewtime`` (timings export) -> ``duration_s``.
    * multi-choice ``Y`` -> ``1``, ``N`` -> ``0``; an empty cell -> ``-7`` when the question was
      not asked (its ``ask_if`` is false for the row); when it was asked, ``0`` if another option
      of the question is ticked and ``-9`` (no answer, in every option) if none is.
    * any other empty cell of a question -> ``-7`` when not asked, ``-9`` (no answer) when asked.
      Free-text items stay as they are (empty text is not a code).
    * answer codes of single-choice items are taken as they are: the LimeSurvey survey must use
      the instrument's codes as answer codes. LimeSurvey answer codes are alphanumeric, so a
      "don't know" option cannot be coded ``-8`` there; such a survey needs a recode before
      import (not guessed here: an unknown code is quarantined with its value).
    Other LimeSurvey columns (``lastpage``, ``startlanguage``, ``seed``, ``startdate``, ...) are
    kept as extra columns.
    """
    renames = {k: v for k, v in _LIMESURVEY_META.items()
               if k in raw.columns and v not in raw.columns}
    raw = raw.rename(columns=renames)
    if "submitted_at" in raw.columns and "submitdate" in renames:
        raw["submitted_at"] = raw["submitted_at"].str.replace(
            r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(:\d{2})?)$", r"\1T\2", regex=True)
    asked = ins.asked_mask_from_text(inst, raw)  # var -> boolean array (True where asked)
    for var, options in ins.multi_items(inst):
        cols = [f"{var}__{o}" for o in options if f"{var}__{o}" in raw.columns]
        if not cols:
            continue
        was_asked = asked.get(var, np.ones(len(raw), dtype=bool))
        stripped = {c: raw[c].str.strip().fillna("").to_numpy(dtype=object) for c in cols}
        ticked = np.zeros(len(raw), dtype=bool)
        for v in stripped.values():
            ticked |= (v == "Y") | (v == "1")
        for c in cols:
            v = stripped[c]
            out = np.where(v == "Y", "1", np.where(v == "N", "0", raw[c].to_numpy(dtype=object)))
            empty = v == ""
            out = np.where(empty & was_asked & ticked, "0", out)
            out = np.where(empty & was_asked & ~ticked, "-9", out)
            out = np.where(empty & ~was_asked, "-7", out)
            raw[c] = pd.array(out.tolist(), dtype="str")
    for var in ins.coded_single_columns(inst):
        if var not in raw.columns:
            continue
        was_asked = asked.get(var, np.ones(len(raw), dtype=bool))
        empty = (raw[var].str.strip() == "").to_numpy()
        out = np.where(empty, np.where(was_asked, "-9", "-7"), raw[var].to_numpy(dtype=object))
        raw[var] = pd.array(out.tolist(), dtype="str")
    return raw, renames


# ---------------------------------------------------------------------------------------------
# SPSS / Stata


def _read_stat(path: Path, kind: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The all-text frame of an SPSS/Stata file and the variable label of each column."""
    import pyreadstat

    reader = pyreadstat.read_dta if kind == "stata" else pyreadstat.read_sav
    try:
        df, meta = reader(str(path), apply_value_formats=False, user_missing=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError) as err:
        raise ExportError(path, f"cannot read as {kind}: {err}") from None
    data = {LINE_COLUMN: np.arange(2, len(df) + 2, dtype=np.int64)}
    labels = {}
    for name in df.columns:
        data[_clean_name(str(name))] = pd.array(_as_text(df[name]), dtype="str")
        label = (meta.column_names_to_labels or {}).get(name)
        if label:
            labels[_clean_name(str(name))] = str(label).strip()
    data[ROW_ERROR_COLUMN] = pd.array([""] * len(df), dtype="str")
    return pd.DataFrame(data), labels


def _label_aliases(expected: list[str], present: set[str], labels: dict[str, str]) -> dict[str, str]:
    """SPSS/Stata columns whose variable label is one of our column names, for names the file
    could not hold (Stata allows 32 characters: ``training_format__commercial_elearning`` is 37).
    Only for our names that are absent, and only from columns that are not ours already."""
    wanted = set(expected) - present
    renames = {}
    for theirs, label in labels.items():
        if label in wanted and theirs not in expected and label not in renames.values():
            renames[theirs] = label
    return renames


def _as_text(col: pd.Series) -> list[str]:
    """pyreadstat gives integer codes as float64 and missing strings as "": write back as text."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        x = col.to_numpy(dtype=float)
        out = np.full(x.shape, "", dtype=object)
        ok = np.isfinite(x)
        whole = ok & (x == np.round(x)) & (np.abs(x) < 2**53)
        out[whole] = x[whole].astype(np.int64).astype(str)
        frac = ok & ~whole
        out[frac] = [repr(float(v)) for v in x[frac]]
        return out.tolist()
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in col]


# ---------------------------------------------------------------------------------------------


def _detect_format(path: Path, header: list[str] | None) -> str:
    suffix = path.suffix.lower()
    if suffix in (".sav", ".zsav", ".por"):
        return "spss"
    if suffix == ".dta":
        return "stata"
    if header is not None and _looks_like_limesurvey(header):
        return "limesurvey"
    return "csv"


def read_export(path, inst=None, format: str | None = None,
                rename: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a survey export into an all-text frame, with file line numbers and the file's sha256.

    ``inst`` (from `schemas.load_instrument`) supplies the expected columns: a missing one is an
    `ExportError`; unknown extra columns are kept and listed in ``raw.attrs["export"]``.
    ``rename``: the file's column names mapped to ours, for exports that name columns their own
    way (applied first). SPSS/Stata columns whose variable label is one of our names are renamed
    to it when that name is absent (Stata names hold 32 characters, some of ours more). Every
    rename is listed in ``raw.attrs["export"]["renamed_columns"]``.

    >>> import schemas
    >>> inst = schemas.load_instrument()
    >>> raw = read_export("tests/data/example_export_de.csv", inst)
    >>> raw.attrs["export"]["encoding"], raw.attrs["export"]["separator"], len(raw)
    ('cp1252', ';', 41)
    >>> raw[["line", "response_id", "duration_s"]].head(2)
       line  response_id duration_s
    0     2  r2026-00000      970,5
    1     3  r2026-00001     1418,7
    """
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise ExportError(path, f"unknown format {format!r}; expected one of {FORMATS}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ExportError(path, f"cannot read the file: {err.strerror or err}") from None
    sha256 = hashlib.sha256(data).hexdigest()
    expected = ins.raw_columns(inst) if inst is not None else []
    info = {"path": str(path), "sha256": sha256}

    if format in ("spss", "stata") or (format is None and path.suffix.lower() in
                                      (".sav", ".zsav", ".por", ".dta")):
        kind = format or _detect_format(path, None)
        raw, var_labels = _read_stat(path, kind)
        info.update(format=kind, encoding=None, separator=None)
    else:
        text, encoding = _decode(data, path)
        header_text = _first_record(text)
        sep = _sniff_separator(header_text, set(expected) | set(_LIMESURVEY_META))
        header = [_clean_name(n) for n in next(csv.reader([header_text], delimiter=sep), [])]
        raw = _parse_csv_fast(text, sep, header) if _FAST else None
        if raw is not None:
            empty_lines = raw.attrs.pop("empty_lines")
        else:  # the exact, slower path: any width, blank lines, every quoting case
            records = _parse_csv(text, sep, path)
            header, empty_lines = records.header, records.empty_lines
            raw = _frame(records, path)
        kind = format or _detect_format(path, header)
        var_labels = {}
        info.update(format=kind, encoding=encoding, separator=sep,
                    empty_records_skipped=empty_lines,
                    lines_with_inner_quotes=_odd_quotes(text, sep))

    renames = {}
    if rename:
        unknown = [c for c in rename if c not in raw.columns]
        if unknown:
            raise ExportError(path, f"rename: column(s) {unknown} are not in the file "
                              f"(its columns: {', '.join(map(str, raw.columns[1:-1][:12]))}, ...)",
                              line=1, column=unknown[0])
        taken = [ours for theirs, ours in rename.items() if ours in raw.columns and ours != theirs]
        if taken:
            raise ExportError(path, f"rename: the file already has column(s) {taken}; renaming "
                              "another column to the same name would hide one of them",
                              line=1, column=taken[0])
        renames.update(rename)
        raw = raw.rename(columns=rename)
    if inst is not None:
        aliases = _multi_column_aliases(expected, set(raw.columns), inst)
        aliases.update(_label_aliases(expected, set(raw.columns) | set(aliases.values()), var_labels))
        renames.update(aliases)
        raw = raw.rename(columns=aliases)
        if kind == "limesurvey":
            raw, meta_renames = _limesurvey(raw, inst)
            renames.update(meta_renames)
        missing = [c for c in expected if c not in raw.columns]
        if missing:
            shown = ", ".join(missing[:8]) + (f", ... ({len(missing) - 8} more)"
                                              if len(missing) > 8 else "")
            raise ExportError(
                path, f"missing required column(s): {shown} "
                f"({len(missing)} of {len(expected)} instrument columns absent; "
                f"separator {info.get('separator')!r}, encoding {info.get('encoding')!r})",
                line=1, column=missing[0])
    known = set(expected) | {LINE_COLUMN, ROW_ERROR_COLUMN}
    info["extra_columns"] = [c for c in raw.columns if c not in known] if inst is not None else []
    info["renamed_columns"] = renames
    info["n_records"] = len(raw)
    raw.attrs["export"] = info
    return raw

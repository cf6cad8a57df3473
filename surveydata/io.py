"""Read what survey platforms and spreadsheets actually export, losing nothing.

`read_export(path, inst)` returns the *raw* frame: every cell as the text that was in the file
(no type conversion, no trimming, no missing-value guessing), one row per record, plus

* ``line``: where the record starts in the file, counting the header as line 1. Quoted fields
  with embedded newlines are counted correctly (a record spanning lines 7-9 has ``line == 7``).
  For SPSS/Stata files, which have no lines, ``line`` is the case number + 1, so that it matches
  the line of the same case in a CSV export with a header.
* ``_row_error``: empty, or why the record is malformed (more or fewer fields than the header,
  broken quoting, a cell of more than a million characters). A malformed record is kept (and
  later quarantined), never dropped.

Blank lines are not records. Neither are records holding nothing but separators and whitespace
(``;;;;`` rows that Excel leaves below the data): their lines are listed in
``raw.attrs["export"]["empty_records_skipped"]`` and in the validation report.

``raw.attrs["export"]`` records the provenance: path, sha256 of the file's bytes, detected
format, encoding and separator, unknown extra columns, columns renamed from a platform's naming
convention (``var[option]``, ``var_option``, ``varoption`` -> ``var__option``), skipped empty
records, lines where a quote character sits inside a field, lines read as cp1252 in an otherwise
UTF-8 file (``lines_not_utf8``), and the accounting of lines: ``n_physical_lines``,
``n_records`` and ``n_records_by_line_count`` (the records counted a second way, from the
physical lines; the two always agree, see `surveydata._records`), ``blank_lines`` and
``broken_records`` (line, column, the lines it would have swallowed, why).

Reading is a protocol, not a guess (`surveydata._records`): record boundaries are established
before values are interpreted, and a quote that opens and does not close where a record can end
(never closed; a merged record of the wrong width; swallowing a line that is a record of its
own) makes its record *broken*: kept as its one line, marked in ``_row_error`` (so quarantined)
with the lines it would have swallowed, and reading goes on with the next line. No cell value
is ever taken from another record. Otherwise quoting is read as Excel, LibreOffice and pyarrow
read it: ``"a;b"`` is one field, ``""`` inside quotes is a quote, and broken quoting such as
``"ab"c`` becomes ``abc`` (such lines are listed in ``lines_with_inner_quotes``).

Formats (``format=None`` detects them):

``csv``
    Comma, semicolon or tab separated (sniffed from the header, preferring the separator that
    yields the instrument's column names), UTF-8 with or without BOM, UTF-16 LE or BE with BOM
    (Excel's "Unicode text"), otherwise Windows-1252, decided line by line in a file mixing
    UTF-8 and cp1252 (reported). UTF-32 and UTF-16 without BOM are refused with the fix. Quoted
    fields may contain separators, doubled quotes and newlines. Decimal commas and stray whitespace are left in the text; `validate` parses them.
``limesurvey``
    LimeSurvey's "CSV" response export with "Question code" headings and "Answer codes"
    (see `_limesurvey` below for the exact mapping). Detected by LimeSurvey's fixed columns
    ``id`` and ``submitdate``.
``spss`` / ``stata``
    ``.sav``/``.zsav``/``.por`` and ``.dta`` through pyreadstat; numbers are written back as text
    without a spurious ``.0``, system-missing values become empty cells, and infinite values
    the text ``inf``/``-inf`` (which validation refuses with that value).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from surveydata import _instrument as ins
from surveydata import _records
from surveydata.errors import ExportError

__all__ = ["FORMATS", "ExportChunks", "ExportError", "read_export"]

FORMATS = ("csv", "limesurvey", "spss", "stata")
SEPARATORS = (",", ";", "\t")
LINE_COLUMN = "line"
ROW_ERROR_COLUMN = "_row_error"


# ---------------------------------------------------------------------------------------------
# bytes -> text

_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_SAVE_AS = "save it as CSV UTF-8 (or Windows-1252, or UTF-16 with BOM) and read that file"


def _decode(data: bytes, path) -> tuple[str, str, list[int]]:
    """Decode with the encoding the bytes prove: (text, encoding, lines read as cp1252 in a file
    that is otherwise UTF-8).

    A BOM decides (UTF-8, UTF-16 LE or BE; UTF-32 is refused with the fix); without one, UTF-8
    if the whole file is UTF-8, otherwise each line on its own: UTF-8 where it is, Windows-1252
    (what Excel on German Windows writes) where it is not. A file with lines of both is
    reported as ``"utf-8+cp1252"`` with the cp1252 lines, never silently read as one of them.
    NUL bytes are not text: UTF-16 without a BOM is recognised by them and refused with the fix.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            if name.startswith("utf-32"):
                raise ExportError(path, f"the file is {name.upper()} (byte-order mark "
                                  f"{bom.hex(' ')}), which is not read: {_SAVE_AS}", line=1)
            if name.startswith("utf-16"):
                return _strict(data[len(bom):], name, path), name, []
            body = data[len(bom):]
            break
    else:
        name, body = None, data
    if b"\x00" in body:
        at = body.index(b"\x00")
        head = body[:2000]
        if head[1::2].count(0) > 0.3 * len(head[1::2]) or head[0::2].count(0) > 0.3 * len(head[0::2]):
            raise ExportError(path, "the file looks like UTF-16 without a byte-order mark "
                              f"(every other byte is 0): {_SAVE_AS}", line=1)
        raise ExportError(path, f"NUL byte (0x00) at offset {at}: a text export holds none; "
                          f"if the file is not a CSV export, choose the right file, else {_SAVE_AS}",
                          line=body[:at].count(b"\n") + 1)
    text, cp1252_lines, utf8_non_ascii = _decode_lines(body, path, len(data) - len(body))
    if not cp1252_lines:
        return text, name or "utf-8", []
    if name is None and not utf8_non_ascii:
        return text, "cp1252", []
    return text, f"{name or 'utf-8'}+cp1252", cp1252_lines


def _decode_lines(body: bytes, path, skipped: int = 0, first_line: int = 1):
    """(text, lines read as cp1252, whether a line holds UTF-8 beyond ASCII): UTF-8 where a line
    is UTF-8, Windows-1252 where it is not (lines numbered from ``first_line``)."""
    try:
        text = body.decode("utf-8")
        return text, [], not body.isascii()
    except UnicodeDecodeError:
        pass
    parts = re.split(rb"(\r\n|\r|\n)", body)
    text, cp1252_lines, utf8_non_ascii = [], [], False
    offset = skipped
    for i, line in enumerate(parts):
        if i % 2:  # a line break
            text.append(line.decode("ascii"))
            offset += len(line)
            continue
        try:
            text.append(line.decode("utf-8"))
            utf8_non_ascii = utf8_non_ascii or not line.isascii()
        except UnicodeDecodeError:
            try:
                text.append(line.decode("cp1252"))
            except UnicodeDecodeError as err:
                raise ExportError(
                    path, f"byte 0x{line[err.start]:02x} at offset {offset + err.start} is not "
                    "valid UTF-8 nor cp1252 (expected UTF-8, UTF-8 with BOM, UTF-16 with BOM "
                    "or Windows-1252)", line=i // 2 + first_line) from None
            cp1252_lines.append(i // 2 + first_line)
        offset += len(line)
    return "".join(text), cp1252_lines, utf8_non_ascii


def _strict(data: bytes, encoding: str, path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise ExportError(
            path, f"byte 0x{data[err.start]:02x} at offset {err.start} is not valid {encoding} "
            "(expected UTF-8, UTF-8 with BOM, UTF-16 with BOM or Windows-1252)") from None


# ---------------------------------------------------------------------------------------------
# text -> records (the protocol itself is surveydata._records)


def _header_text(text: str) -> str:
    """The header record's text (may span lines if a quoted name contains a line break)."""
    in_quotes = False
    head = text[: 1 << 20]
    for end, ch in enumerate(head):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch in "\r\n" and not in_quotes and head[:end].strip():
            return head[:end]
    return head


def _split_header(header: str, sep: str) -> list[str]:
    return next(csv.reader(io.StringIO(header, newline=""), delimiter=sep, strict=False), [])


def _sniff_separator(header: str, wanted: set[str]) -> str:
    """The separator that splits the header into the most known names, then the most fields."""
    best, best_key = ",", (-1, -1)
    for sep in SEPARATORS:
        names = [_clean_name(n) for n in _split_header(header, sep)]
        key = (sum(n in wanted or _base_name(n) in wanted for n in names), len(names))
        if key > best_key:
            best, best_key = sep, key
    return best


_clean_name = _records.clean_name


def _base_name(name: str) -> str:
    return name.split("[", 1)[0]


def _check_header(path):
    def check(header: list[str]) -> None:
        dupes = sorted({n for n in header if header.count(n) > 1})
        if dupes:
            raise ExportError(path, f"column name(s) appear more than once: {dupes}", line=1,
                              column=dupes[0])
        blank = [i for i, n in enumerate(header) if n == ""]
        if blank:
            raise ExportError(path, f"header field {blank[0] + 1} has no column name", line=1)
    return check


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


# ---------------------------------------------------------------------------------------------
# platform conventions


def _multi_column_aliases(present: set[str], inst) -> dict[str, str]:
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
    import pyreadstat  # noqa: PLC0415 - SPSS/Stata reading loads only for those files

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
        out[np.isposinf(x)] = "inf"  # reported as the value it is, not as an empty cell
        out[np.isneginf(x)] = "-inf"
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
    0     2  r2026-00000     1073,2
    1     3  r2026-00001      987,8
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
        text, encoding, cp1252_lines = _decode(data, path)
        sep = _sniff_separator(_header_text(text), set(expected) | set(_LIMESURVEY_META))
        records = _records.split(text, sep, path, header_check=_check_header(path))
        raw, header = records.frame, records.header
        kind = format or _detect_format(path, header)
        var_labels = {}
        info.update(format=kind, encoding=encoding, separator=sep,
                    lines_not_utf8=cp1252_lines,
                    n_physical_lines=records.n_physical_lines,
                    n_records_by_line_count=records.n_records_by_line_count,
                    blank_lines=len(records.blank_lines),
                    empty_records_skipped=records.empty_records,
                    broken_records=records.broken,
                    lines_with_inner_quotes=_odd_quotes(text, sep))

    return _finish(raw, path, inst, kind, rename, var_labels, info)


def _finish(raw, path, inst, kind, rename, var_labels, info) -> pd.DataFrame:
    """Renames, platform conventions and the check of the instrument's columns (per piece)."""
    expected = ins.raw_columns(inst) if inst is not None else []
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
        aliases = _multi_column_aliases(set(raw.columns), inst)
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


# ---------------------------------------------------------------------------------------------
# reading in pieces (streaming validation)

CHUNK_BYTES = 16 << 20


class ExportChunks:
    """`read_export` in pieces of about ``chunk_bytes`` of the file: iterating yields all-text
    frames of consecutive records (the columns and ``line`` numbers `read_export` gives), so
    that a file of any size is read with bounded memory. Iterating again reads the file again.
    After a complete iteration, ``info`` holds the provenance and accounting of the whole file
    (``read_export(...).attrs["export"]``, with ``n_records`` summed).

    Text exports in UTF-8 (with or without BOM), Windows-1252 or a mix are read in pieces;
    UTF-16 files and SPSS/Stata files are read whole, as one piece.

    >>> import schemas
    >>> chunks = ExportChunks("tests/data/example_export_de.csv", schemas.load_instrument(),
    ...                       chunk_bytes=4096)
    >>> [len(c) for c in chunks][:3], chunks.info["n_records"]
    ([5, 14, 15], 41)
    """

    def __init__(self, path, inst=None, format: str | None = None,
                 rename: dict[str, str] | None = None, chunk_bytes: int = CHUNK_BYTES):
        self.path, self.inst, self.format, self.rename = Path(path), inst, format, rename
        self.chunk_bytes = max(int(chunk_bytes), 1024)
        self.info: dict = {}

    def __iter__(self):
        path = self.path
        if self.format is not None and self.format not in FORMATS:
            raise ExportError(path, f"unknown format {self.format!r}; expected one of {FORMATS}")
        try:
            f = open(path, "rb")  # noqa: SIM115 (closed below, also when iteration stops early)
        except OSError as err:
            raise ExportError(path, f"cannot read the file: {err.strerror or err}") from None
        try:
            yield from self._pieces(f)
        finally:
            f.close()

    def _whole(self):
        raw = read_export(self.path, self.inst, format=self.format, rename=self.rename)
        self.info = dict(raw.attrs["export"])
        yield raw

    def _pieces(self, f):
        path, inst = self.path, self.inst
        head = f.read(self.chunk_bytes)
        stat_file = self.format in ("spss", "stata") or (
            self.format is None and path.suffix.lower() in (".sav", ".zsav", ".por", ".dta"))
        bom = next((name for b, name in _BOMS if head.startswith(b)), None)
        if stat_file or (bom and bom != "utf-8-sig") or b"\x00" in head:
            yield from self._whole()  # UTF-16/32 and NUL bytes: refused or read there
            return
        sha = hashlib.sha256(head)
        skipped = 3 if bom else 0
        data, eof = head[skipped:], len(head) < self.chunk_bytes
        expected = ins.raw_columns(inst) if inst is not None else []
        carry, offset, header, sep, kind = "", 0, None, None, None
        decoded_lines = 0  # physical lines decoded so far (to number lines not in UTF-8)
        cp1252, utf8_non_ascii = [], False
        total = {"n_physical_lines": 0, "n_records_by_line_count": 0, "blank_lines": 0,
                 "empty_records_skipped": [], "broken_records": [],
                 "lines_with_inner_quotes": [], "n_records": 0}
        info = {}
        while True:
            if not eof:
                cut = data.rfind(b"\n") + 1 or data.rfind(b"\r", 0, len(data) - 1) + 1
                more = f.read(self.chunk_bytes)
                sha.update(more)
                eof = not more
                if cut <= 0:
                    data += more
                    continue
                part, data = data[:cut], data[cut:] + more
            else:
                part, data = data, b""
            if b"\x00" in part:
                raise ExportError(path, "NUL byte (0x00): a text export holds none; if the "
                                  f"file is not a CSV export, choose the right file, else {_SAVE_AS}",
                                  line=decoded_lines + part[:part.index(b"\x00")].count(b"\n") + 1)
            text, lines_cp, non_ascii = _decode_lines(part, path, first_line=decoded_lines + 1)
            decoded_lines += _records.newlines(text)
            cp1252 += lines_cp
            utf8_non_ascii |= non_ascii
            text = carry + text
            final = eof and not data
            if header is None:
                sep = _sniff_separator(_header_text(text), set(expected) | set(_LIMESURVEY_META))
            recs = _records.split(text, sep, path, header_check=_check_header(path),
                                  header=header, offset=offset, final=final)
            lines = _records.physical_lines(text) if not final else None
            carry = "".join(lines[recs.consumed:]) if lines is not None else ""
            read_text = text if lines is None else "".join(lines[:recs.consumed])
            odd = [k + offset for k in _odd_quotes(read_text, sep)]
            offset += recs.consumed
            if header is None:
                header = recs.header
                kind = self.format or _detect_format(path, header)
            total["n_physical_lines"] += recs.n_physical_lines
            total["n_records_by_line_count"] += recs.n_records_by_line_count
            total["blank_lines"] += len(recs.blank_lines)
            total["empty_records_skipped"] += recs.empty_records
            total["broken_records"] += recs.broken
            total["lines_with_inner_quotes"] += odd
            info = {"path": str(path), "sha256": None, "format": kind, "separator": sep}
            raw = _finish(recs.frame, path, inst, kind, self.rename, {}, dict(info))
            total["n_records"] += len(raw)
            info.update(extra_columns=raw.attrs["export"]["extra_columns"],
                        renamed_columns=raw.attrs["export"]["renamed_columns"])
            if len(raw):
                yield raw
            if final:
                break
        if not cp1252:
            encoding = "utf-8-sig" if bom else "utf-8"
        elif bom is None and not utf8_non_ascii:
            encoding, cp1252 = "cp1252", []
        else:
            encoding = f"{'utf-8-sig' if bom else 'utf-8'}+cp1252"
        info.update(total, sha256=sha.hexdigest(), encoding=encoding, lines_not_utf8=cp1252)
        self.info = info

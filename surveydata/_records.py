"""CSV text -> records, with every physical line accounted for (the reading protocol of `io`).

Record boundaries are established before any value is interpreted, and a record may span more
than one physical line only when it can: a quoted field may hold line breaks, but a record whose
quoting runs past a line it cannot belong to is *broken*, not merged with what follows:

* the quote never closes before the end of the file, or
* the merged record does not have the header's number of fields, or
* a line it would swallow is a complete record of its own (closed quoting, the header's number
  of fields).

A broken record is kept as what its first line holds (the open quote running to the line's end),
marked with the reason, the column where the quote opened and the lines it would have swallowed;
reading continues with the next line, so that no cell value is ever taken from another record.

Every physical line (a line ends at CR, LF or CRLF) is one of: a line of the header, a line of a
record, a blank line, or a line of a record holding nothing but separators and whitespace.
`split` checks that these add up to the number of lines counted independently in the text, and
counts the records a second way, from the line breaks inside the values:
``n_records_by_line_count = physical lines - header lines - blank lines - separator-only lines
- line breaks inside values``. Both counts go into the report; a difference is a
`ReadInvariantError`.

Blocks of lines are parsed by pyarrow's CSV reader (C++) when that provably gives the records
the exact reader (Python's csv module, line by line) gives; otherwise the block is read exactly.

>>> recs = split("id,c\\n1,\\"ok\\n2,x\\n3,y\\n", ",", "f.csv")
>>> recs.frame[["line", "id", "c", "_row_error"]].values.tolist()[0][:3]
[2, '1', 'ok']
>>> recs.broken[0]["line"], recs.broken[0]["column"], recs.frame["line"].tolist()
(2, 'c', [2, 3, 4])
"""
from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from surveydata.errors import ExportError, SurveyDataError

__all__ = ["BLOCK_LINES", "MAX_CELL_CHARS", "ReadInvariantError", "Records", "physical_lines",
           "split"]

LINE_COLUMN = "line"
ROW_ERROR_COLUMN = "_row_error"
BLOCK_LINES = 50_000
MIN_BLOCK_LINES = 256
MAX_CELL_CHARS = 1_000_000
MAX_RECORD_LINES = 10_000  # a quoted value may span at most this many lines
_SENTINEL = "\x00"  # NUL bytes are refused before parsing, so this line cannot be data
_FAST = True
_BREAKS = re.compile(r"(\r\n|\r|\n)")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # cells are limited by MAX_CELL_CHARS below


class ReadInvariantError(SurveyDataError):
    """The reader's accounting of lines and records does not add up (a bug, never silent)."""


def physical_lines(text: str) -> list[str]:
    """The text's physical lines, each with its line break (CR, LF or CRLF).

    >>> physical_lines("a\\r\\nb\\rc\\nd")
    ['a\\r\\n', 'b\\r', 'c\\n', 'd']
    """
    parts = _BREAKS.split(text)
    lines = [a + b for a, b in zip(parts[0::2], parts[1::2])]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def newlines(text: str) -> int:
    """Line breaks as the reader counts them: LF, CRLF and a lone CR each end one line."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@dataclass
class Records:
    """What `split` found: the all-text frame (``line``, the header's columns, ``_row_error``)
    and the accounting of every physical line."""

    header: list[str]
    frame: pd.DataFrame
    n_physical_lines: int
    header_lines: int
    blank_lines: list[int] = field(default_factory=list)
    empty_records: list[int] = field(default_factory=list)  # separator-only records (first line)
    broken: list[dict] = field(default_factory=list)
    n_records_by_line_count: int = 0
    consumed: int = 0  # physical lines read (all of them unless split(final=False))


class _Source:
    """Lines from ``pos`` on for csv.reader, up to ``cap``, then one sentinel line (an open quote
    that reaches the cap swallows it, which is how an unclosed quote is recognised). `start`
    sets the cap for the next record: the end of the text, or MAX_RECORD_LINES on."""

    def __init__(self, lines, pos, limit):
        self.lines, self.pos, self.limit = lines, pos, limit
        self.cap = limit

    def start(self) -> None:
        self.cap = min(self.limit, self.pos + MAX_RECORD_LINES)

    def __iter__(self):
        return self

    def __next__(self):
        if self.pos < self.cap:
            self.pos += 1
            return self.lines[self.pos - 1]
        if self.pos == self.cap:
            self.pos += 1
            return _SENTINEL
        raise StopIteration


def _reader(src, sep):
    # Not strict: a stray quote after a closing quote (`"ab"c`) is read as Excel, LibreOffice
    # and pyarrow read it (`abc`); io lists such lines in the export info.
    return csv.reader(src, delimiter=sep, quotechar='"', strict=False)


def _alone(line: str, sep: str) -> tuple[list[str], bool]:
    """One physical line parsed on its own: (fields, True if a quote opened in it stays open)."""
    src = _Source([line], 0, 1)
    fields = next(_reader(src, sep), [])
    still_open = src.pos > 1
    if still_open and fields:
        fields[-1] = fields[-1].removesuffix(_SENTINEL)
    return fields, still_open


def _strip_break(line: str) -> str:
    return line.rstrip("\r\n") if line.endswith(("\r", "\n")) else line


def _why_broken(lines, first, end, cap, limit, fields, width, sep) -> str | None:
    """Why the record on lines [first, end) cannot be one record, or None if it can."""
    if end > cap:
        if cap < limit:
            return f"it would span more than {MAX_RECORD_LINES:,} lines"
        return "the quote is never closed before the end of the file"
    if len(fields) != width:
        return (f"read across lines {first + 1}-{end} it would have {len(fields)} fields, "
                f"the header has {width}")
    for k in range(first + 1, end):
        if _record_of_its_own(lines[k], sep, width):
            return f"line {k + 1} is a complete record of its own"
    return None


def _record_of_its_own(line: str, sep: str, width: int) -> bool:
    """A line that is a well-formed record by itself: ``width`` fields, each unquoted without a
    quote character or quoted with doubled inner quotes (the last line of a legitimate
    multi-line value holds its closing quote mid-field, so it never qualifies)."""
    s = re.escape(sep)
    fld = f'(?:"(?:[^"]|"")*"|[^"{s}\r\n]*)'
    body = _strip_break(line)
    if not re.fullmatch(f"{fld}(?:{s}{fld})*", body):
        return False
    fields, still_open = _alone(body, sep)
    return len(fields) == width and not still_open


@dataclass
class _Block:
    frame: pd.DataFrame
    end: int  # index of the first line after the block
    blank: list[int] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)
    broken: list[dict] = field(default_factory=list)
    inside: int = 0  # line breaks inside the values of its records (and separator-only ones)
    incomplete: bool = False  # stopped at a record the end of the piece leaves open


def _is_empty_record(fields) -> bool:
    return all(not f.strip() for f in fields)


def _exact_block(lines, pos, stop, header, sep, limit, offset=0, final=True) -> _Block:
    """Records starting at line index ``pos`` until one ends at or after ``stop``; line
    numbers are index + 1 + ``offset`` (the lines of the file before ``lines``). Unless
    ``final``, a record still open at the end of ``lines`` ends the block before it
    (``incomplete``): the next piece of the file decides it."""
    width = len(header)
    src = _Source(lines, pos, limit)
    reader = _reader(src, sep)
    rows, starts, errors = [], [], []
    blk = _Block(pd.DataFrame(), pos)
    while src.pos < stop and src.pos < limit:
        first = src.pos
        src.start()
        fields = next(reader)
        end = src.pos
        error = ""
        at = first + 1 + offset  # the record's first line in the file
        if not final and end > src.cap == limit:
            blk.incomplete = True
            src.pos = first
            break
        if end - first > 1:
            why = _why_broken(lines, first, end, src.cap, limit, fields, width, sep)
            if why is not None:
                fields, _ = _alone(_strip_break(lines[first]), sep)
                column = header[len(fields) - 1] if 0 < len(fields) <= width else None
                swallowed = f"{at + 1}-{min(end, src.cap) + offset}"
                error = (f"broken quoting: a quote opened in column {column!r} on line "
                         f"{at} does not close on that line ({why}); the record is "
                         f"quarantined as its line {at} holds it and reading continues "
                         f"with line {at + 1}")
                blk.broken.append({"line": at, "column": column,
                                   "would_swallow_lines": swallowed, "reason": why})
                src.pos = first + 1
                reader = _reader(src, sep)
        if not fields:  # a blank line is not a record
            blk.blank.append(at)
            continue
        joined = "".join(fields)
        inside = newlines(joined) if ("\n" in joined or "\r" in joined) else 0
        blk.inside += inside
        if _is_empty_record(fields):  # ";;;;" rows that Excel leaves below the data
            blk.empty.append(at)
            continue
        if not error and len(fields) != width:
            error = f"record has {len(fields)} fields, the header has {width}"
            if len(fields) > width:  # keep what would be lost in the message: nothing silent
                error += f" (extra fields: {fields[width:]!r})"
        if not error and len(joined) > MAX_CELL_CHARS:
            big = [(header[i], len(f)) for i, f in enumerate(fields[:width]) if len(f) > MAX_CELL_CHARS]
            if big:
                error = (f"cell in column {big[0][0]!r} holds {big[0][1]:,} characters (more "
                         f"than {MAX_CELL_CHARS:,}): not an answer; check the export of the "
                         f"record starting on line {at}")
        rows.append((fields + [""] * width)[:width])
        starts.append(at)
        errors.append(error)
    blk.end = min(src.pos, limit)
    columns = list(zip(*rows)) if rows else [()] * width
    data = {LINE_COLUMN: np.asarray(starts, dtype=np.int64)}
    for name, values in zip(header, columns):
        data[name] = pd.array(list(values), dtype="str")
    data[ROW_ERROR_COLUMN] = pd.array(errors, dtype="str")
    blk.frame = pd.DataFrame(data)
    return blk


def _fast_block(lines, pos, stop, header, sep, offset=0) -> _Block | None:
    """The same block as `_exact_block`, parsed by pyarrow; None when that is not provably so.

    Taken only when: every record has the header's width (pyarrow refuses others), the line
    breaks add up (one per record plus those inside quoted values, which rules out blank lines
    and makes ``line`` exact), no cell is over the size limit, and every record that spans
    lines is confirmed by the exact reader on exactly those lines.
    """
    width = len(header)
    names = [f"c{i}" for i in range(width)]
    text = "".join(lines[pos:stop])
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 26),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=True,
                                             ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    n = table.num_rows
    inside = np.zeros(n, dtype=np.int64)
    blank = np.ones(n, dtype=bool)
    for col in table.columns:
        if n and pc.max(pc.utf8_length(col)).as_py() > MAX_CELL_CHARS:
            return None
        inside += (pc.count_substring(col, "\n").to_numpy(zero_copy_only=False)
                   + pc.count_substring(col, "\r").to_numpy(zero_copy_only=False)
                   - pc.count_substring(col, "\r\n").to_numpy(zero_copy_only=False))
        blank &= pc.equal(pc.utf8_trim_whitespace(col), "").to_numpy(zero_copy_only=False)
    if n + int(inside.sum()) != stop - pos:
        return None  # blank lines, an unclosed quote, or quoting pyarrow reads differently
    starts = pos + np.arange(n, dtype=np.int64) + np.concatenate([[0], np.cumsum(inside)[:-1]])
    for i in np.flatnonzero(inside):  # records spanning lines: rare, and confirmed exactly
        first, end = int(starts[i]), int(starts[i] + inside[i] + 1)
        check = _exact_block(lines, first, first + 1, header, sep, end, offset)
        ok = (not check.broken and check.end == end and len(check.frame) == 1
              and check.frame[ROW_ERROR_COLUMN].iloc[0] == ""
              and check.frame[header].iloc[0].tolist()
              == list(table.slice(int(i), 1).to_pylist()[0].values()))
        if not ok:
            return None
    keep = ~blank
    data = {LINE_COLUMN: starts[keep] + 1 + offset}
    for name, col in zip(header, table.columns):
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        arr = arr.filter(pa.array(keep)) if blank.any() else arr
        data[name] = pd.array(pd.arrays.ArrowStringArray(arr.cast(pa.large_string())),
                              dtype="str")
    data[ROW_ERROR_COLUMN] = pd.array([""] * int(keep.sum()), dtype="str")
    return _Block(pd.DataFrame(data), stop, empty=(starts[blank] + 1 + offset).tolist(),
                  inside=int(inside.sum()))


def split(text: str, sep: str, path, header_check=None, *, header=None, offset=0,
          final=True) -> Records:
    """Split CSV text into the header and records (see the module docstring).

    ``header_check(header)`` may raise for a header that cannot be read on (duplicate names).
    For a file read in pieces (`surveydata.io.read_export_chunks`): ``header`` (the header of
    the file, when ``text`` is a later piece: it holds no header), ``offset`` (the number of
    lines before ``text``) and ``final=False`` for a piece that is not the end of the file:
    then reading stops before a record that is still open at the end of ``text``, and
    ``Records.consumed`` says how many lines were read (the rest begins the next piece).
    """

    lines = physical_lines(text)
    limit = len(lines)
    blank = []
    pos = 0
    header_lines = header_inside = 0
    if header is None:
        while pos < limit and not lines[pos].strip("\r\n"):
            blank.append(pos + 1 + offset)
            pos += 1
        if pos >= limit:
            raise ExportError(path, "the file is empty (no header line)", line=1)
        src = _Source(lines, pos, limit)
        src.start()
        header_fields = next(_reader(src, sep))
        if src.pos > src.cap:
            raise ExportError(path, "a quote in the header is never closed (the whole file "
                              "would be column names): check the header's quoting",
                              line=pos + 1 + offset)
        header_lines = src.pos - pos
        header_inside = sum(newlines(f) for f in header_fields)
        header = [clean_name(n) for n in header_fields]
        if header_check is not None:
            header_check(header)
        pos = src.pos
    blocks = []
    size = BLOCK_LINES  # smaller around records pyarrow cannot read, so that few lines go slow
    while pos < limit:
        stop = min(pos + size, limit)
        blk = _fast_block(lines, pos, stop, header, sep, offset) if _FAST else None
        if blk is None and _FAST and size > MIN_BLOCK_LINES:
            size = max(MIN_BLOCK_LINES, size // 8)
            continue
        if blk is None:
            blk = _exact_block(lines, pos, stop, header, sep, limit, offset, final)
        else:
            size = min(BLOCK_LINES, size * 2)
        blocks.append(blk)
        pos = blk.end
        if blk.incomplete:
            break
    width = len(header)
    if blocks:
        frame = pd.concat([b.frame for b in blocks], ignore_index=True)
    else:
        frame = pd.DataFrame({LINE_COLUMN: np.zeros(0, dtype=np.int64),
                              **{h: pd.array([], dtype="str") for h in header},
                              ROW_ERROR_COLUMN: pd.array([], dtype="str")})
    for b in blocks:
        blank += b.blank
    empty = [e for b in blocks for e in b.empty]
    broken = [x for b in blocks for x in b.broken]
    inside = sum(b.inside for b in blocks)
    read = text if pos >= limit else "".join(lines[:pos])
    n_physical = newlines(read) + (1 if read and not read.endswith(("\r", "\n")) else 0)
    by_lines = n_physical - (header_lines and 1 + header_inside) - len(blank) - len(empty) - inside
    recs = Records(header=header, frame=frame, n_physical_lines=n_physical,
                   header_lines=header_lines, blank_lines=blank, empty_records=empty,
                   broken=broken, n_records_by_line_count=by_lines, consumed=pos)
    if by_lines != len(frame) or pos != n_physical:
        raise ReadInvariantError(
            f"{path}: {len(frame)} records read but {by_lines} by the count of physical lines "
            f"({n_physical} lines, {pos} split; width {width}): a bug in the reader, not in "
            "the file; please report it with the file")
    return recs


def clean_name(name: str) -> str:
    """A header name without surrounding whitespace or a stray BOM."""
    return name.strip().lstrip("\ufeff").strip()

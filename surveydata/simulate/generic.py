"""Simulated responses for ANY instrument: draws from its declared priors, skip logic and missing
codes obeyed, planted errors recorded, written as an export the validator reads.

The practice study has its own, richer simulator (population, sample design, nonresponse,
truth: `simulate_dataset`); every other instrument gets this one, so that every study has a test
fixture with known errors.

How a respondent is drawn, item by item in questionnaire order (rows are independent):

* an item whose ``ask_if`` is false gets the instrument's not-applicable code (-7, or e.g. 97)
  in every column (a text item stays empty);
* single, Likert and scale items: the prior (percent over codes, missing codes included) or, when
  there is none, uniform over the answer codes with 3 % for each missing code the item accepts;
* multi-choice: each option ticked with its prior percentage (50 % without one). With an
  exclusive option ("none"), that option is an answer of its own, ticked alone with its prior
  share; every other answer ticks at least one and at most ``max_select`` of the other options,
  with tick probabilities solved so each option's share is still its prior (without the solve,
  every empty answer would tick "none", far above its prior); without an exclusive option,
  ``max_select`` drops ticks at random; "no answer" (all columns) with the percentage of the
  prior's no-answer code (2 % without a prior);
* integer and number items: ``distribution`` normal (mean, sd), lognormal (median, mean) or
  uniform over [min, max] (also when there is no prior), rounded to whole numbers or to the
  declared decimals and kept inside the range; ``missing: {code: percent}`` (3 % each without a
  prior);
* date and date-time items: uniform over their range; missing codes as for numbers;
* free text: 30 % answered ("other (specify)" texts: 90 %), short ASCII words;
* respondents violating a HARD cross-item rule are drawn again (soft rules only flag).

Planted errors: ``round(error_rate * n)`` distinct respondents get one error each, of the kinds
the instrument allows (`KINDS`); every one must be quarantined by validation. They are
recorded with the export line(s) that must end in quarantine.

Example:
    >>> import schemas
    >>> sim = simulate_responses(schemas.load_instrument("pharmacy_staff"), n=50, seed=1)
    >>> len(sim.coded), len(sim.planted), {p["kind"] for p in sim.planted} <= set(KINDS)
    (50, 2, True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import schemas
from schemas.populations import largest_remainder

__all__ = ["KINDS", "SimulatedExport", "simulate_responses", "simulated_files"]

KINDS = ("invalid_code", "skip_logic", "bad_number", "bad_date", "duplicate_row",
         "duplicate_response_id")
FIELD_START = np.datetime64("2026-03-02T00:00:00")
FIELD_DAYS = 42
P_MISSING = 0.03  # each accepted missing code, when an item has no prior
TEXT_WORDS = ("Zeitmangel", "Schulung", "Hilfe", "Kosten", "Software", "Formular",   # no study's words
              "Passwort", "Backup", "Drucker", "Netzwerk", "Telefon", "Update")


@dataclass
class SimulatedExport:
    """A simulated export of `instrument`: ``coded`` (the clean raw coded responses), ``frame``
    (every cell as text, in file order, planted errors included) and ``planted`` (one dict per
    planted error: kind, response_id, column, value, original, lines that must be quarantined)."""

    instrument: object
    coded: pd.DataFrame
    frame: pd.DataFrame
    planted: list
    seed: int
    error_rate: float
    separator: str = ";"
    decimal: str = ","
    encoding: str = "utf-8"
    settings: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The CSV text (CRLF line ends)."""
        return self.frame.to_csv(sep=self.separator, index=False, lineterminator="\r\n")

    def to_bytes(self) -> bytes:
        return self.text.encode(self.encoding)

    @property
    def quarantined_lines(self) -> list[int]:
        """Export lines (header = 1) that validation must quarantine, sorted."""
        return sorted({line for p in self.planted for line in p["lines"]})

    def truth(self) -> dict:
        """What was simulated, JSON-serialisable (no timestamps, no paths)."""
        inst = self.instrument
        by_kind = {k: sum(p["kind"] == k for p in self.planted) for k in KINDS}
        return {
            "instrument": {"name": inst.name, "version": inst.version, "format": inst.format},
            "seed": self.seed,
            "n_respondents": len(self.coded),
            "error_rate": self.error_rate,
            "export": {"n_rows": len(self.frame), "separator": self.separator,
                       "decimal": self.decimal, "encoding": self.encoding,
                       "line_ends": "CRLF"},
            "planted_by_kind": {k: v for k, v in by_kind.items() if v},
            "quarantined_lines": self.quarantined_lines,
            "planted_errors": self.planted,
            "settings": self.settings,
        }


# --------------------------------------------------------------------------- drawing


def _missing_weights(item, prior) -> dict[int, float]:
    """{missing code: probability} for an asked item."""
    if prior is not None:
        if item.type in ("integer", "number", "date", "datetime"):
            raw = dict(prior.get("missing") or {})
        else:
            raw = {c: v for c, v in prior.items() if c in item.missing}
        return {int(c): float(v) / 100.0 for c, v in raw.items() if c in item.missing}
    return {c: P_MISSING for c in item.missing}


def _categorical(item, n, rng) -> np.ndarray:
    prior = item.prior
    codes = list(item.substantive_codes)
    if prior is not None:
        keys = [c for c in prior if c in item.codes or c in item.missing]
        p = np.array([float(prior[c]) for c in keys])
    else:
        miss = _missing_weights(item, None)
        keys = codes + list(miss)
        rest = max(0.0, 1.0 - sum(miss.values()))
        p = np.array([rest / len(codes)] * len(codes) + list(miss.values()))
    p = p / p.sum()
    values = np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p)]
    if item.string_codes:
        return np.array([str(v) for v in values], dtype=object)
    return values.astype(np.int64)


def _multi(item, n, rng) -> dict[str, np.ndarray]:
    prior = item.prior
    opts = [o.code for o in item.options]
    share = {o: (float(prior[o]) / 100.0 if prior is not None and o in prior else
                 (0.5 if prior is None else 0.0)) for o in opts}
    excl = [o for o in opts if o in item.exclusive_options]
    if excl:
        ticked = _multi_with_exclusive(item, opts, excl, share, n, rng)
    else:
        ticked = {o: rng.random(n) < share[o] for o in opts}
        if item.max_select is not None:
            m = np.column_stack([ticked[o] for o in opts])
            for i in np.flatnonzero(m.sum(axis=1) > item.max_select):
                on = np.flatnonzero(m[i])
                drop = rng.choice(on, size=len(on) - item.max_select, replace=False)
                for j in drop:
                    ticked[opts[j]][i] = False
    out = {f"{item.var}__{o}": ticked[o].astype(np.int64) for o in opts}
    no_answer = item.no_answer
    if no_answer in item.missing:
        p = (float(prior.get(no_answer, 0)) / 100.0) if prior is not None else 0.02
        gone = rng.random(n) < p
        out = {col: np.where(gone, no_answer, v) for col, v in out.items()}
    return out


def _multi_with_exclusive(item, opts, excl, share, n, rng) -> dict[str, np.ndarray]:
    """An exclusive option is an answer of its own: it is ticked alone with its prior share; every
    other answer ticks 1..max_select of the other options, each with the probability q that makes
    its share among all answers its prior (q solved for the condition "at least one, at most
    max_select"; the rows breaking it are drawn again, which draws from exactly that condition)."""
    ticked = {o: np.zeros(n, dtype=bool) for o in opts}
    p_excl = np.array([share[o] for o in excl])
    if p_excl.sum() > 1.0:
        p_excl = p_excl / p_excl.sum()
    which = np.searchsorted(np.cumsum(p_excl), rng.random(n), side="right")
    for j, o in enumerate(excl):
        ticked[o] = which == j
    rest = np.flatnonzero(which == len(excl))
    others = [o for o in opts if o not in excl]
    if not others:     # nothing but exclusive options: an answer ticks the first
        ticked[excl[0]][rest] = True
        return ticked
    most = len(others) if item.max_select is None else min(item.max_select, len(others))
    target = np.array([share[o] for o in others]) / max(1.0 - p_excl.sum(), 1e-12)
    q = _tick_probabilities(np.clip(target, 0.0, 1.0), most)
    m = np.zeros((len(rest), len(others)), dtype=bool)
    todo = np.arange(len(rest))
    for _ in range(200):
        if not len(todo):
            break
        draw = rng.random((len(todo), len(others))) < q
        k = draw.sum(axis=1)
        ok = (k >= 1) & (k <= most)
        m[todo[ok]] = draw[ok]
        todo = todo[~ok]
    m[todo, int(np.argmax(target))] = True      # never reached with sensible priors
    for j, o in enumerate(others):
        ticked[o][rest] = m[:, j]
    return ticked


def _count_pmf(q) -> np.ndarray:
    """P(K = k), k = 0..len(q), for K the number of independent events with probabilities q."""
    pmf = np.array([1.0])
    for p in q:
        pmf = np.convolve(pmf, [1.0 - p, p])
    return pmf


def _tick_probabilities(target, most, iterations=500) -> np.ndarray:
    """q with P(option ticked | 1 <= ticks <= most) = target, by fixed-point iteration:
    q_o <- target_o * P(1 <= K <= most) / P(K without o <= most - 1). Where the targets cannot be
    met (they sum to less than 1, or to more than `most`), the closest shares are kept.

    >>> q = _tick_probabilities(np.array([0.5, 0.3, 0.4]), 3)
    >>> pmf = _count_pmf(q); p1 = pmf[1:].sum()
    >>> [round(float(q[j] * _count_pmf(np.delete(q, j))[:3].sum() / p1), 6) for j in range(3)]
    [0.5, 0.3, 0.4]
    """
    q = np.clip(target, 1e-6, 1 - 1e-6).astype(float)
    for _ in range(iterations):
        p_ok = _count_pmf(q)[1:most + 1].sum()
        new = np.array([target[j] * p_ok / max(_count_pmf(np.delete(q, j))[:most].sum(), 1e-12)
                        for j in range(len(q))])
        new = np.clip(new, 1e-9, 1 - 1e-9)
        if np.abs(new - q).max() < 1e-12:
            return new
        q = new
    return q


def _numbers(item, n, rng) -> np.ndarray:
    prior = item.prior or {}
    lo, hi = float(item.min), float(item.max)
    dist = prior.get("distribution", "uniform") if item.prior is not None else "uniform"
    if dist == "normal":
        x = rng.normal(float(prior["mean"]), float(prior["sd"]), size=n)
    elif dist == "lognormal":
        median = max(float(prior["median"]), 1e-9)
        mean = float(prior.get("mean", median * 1.3))
        sigma = np.sqrt(2.0 * np.log(mean / median)) if mean > median else 0.5
        x = np.exp(np.log(median) + sigma * rng.standard_normal(n))
    elif item.type == "integer":  # every whole number of the range equally likely
        return rng.integers(int(lo), int(hi) + 1, size=n).astype(np.int64)
    else:
        x = rng.uniform(lo, hi, size=n)
    if item.type == "integer":
        return np.clip(np.round(x), lo, hi).astype(np.int64)
    d = item.decimals
    return np.clip(np.round(x, d), np.ceil(lo * 10**d) / 10**d, np.floor(hi * 10**d) / 10**d)


def _dates(item, n, rng) -> np.ndarray:
    lo = np.datetime64(item.min, "s")
    hi = np.datetime64(item.max, "s") + np.timedelta64(86399, "s")
    span = int((hi - lo) / np.timedelta64(1, "s"))
    t = lo + rng.integers(0, span + 1, size=n).astype("timedelta64[s]")
    if item.type == "date":
        return np.datetime_as_string(t, unit="D").astype(object)
    return np.datetime_as_string(t, unit="s").astype(object)


def _texts(item, n, rng) -> np.ndarray:
    p = 0.9 if item.specify_for is not None else 0.3
    words = np.array(TEXT_WORDS, dtype=object)
    picks = words[rng.integers(0, len(words), size=n)]
    nums = rng.integers(1, 100, size=n)
    text = np.array([f"{w} {k}" for w, k in zip(picks, nums)], dtype=object)
    return np.where(rng.random(n) < p, text, "")


def _with_missing(item, values: np.ndarray, n, rng) -> np.ndarray:
    """Replace answers by the item's missing codes with their probabilities."""
    miss = _missing_weights(item, item.prior)
    if not miss:
        return values
    u = rng.random(n)
    out = values.astype(object) if values.dtype.kind in "OU" else values.astype(np.float64)
    edge = 0.0
    for code, p in miss.items():
        hit = (u >= edge) & (u < edge + p)
        out = np.where(hit, str(code) if out.dtype == object else code, out)
        edge += p
    if item.type == "integer":
        return out.astype(np.int64)
    return out


def _frame(cols: dict, inst) -> pd.DataFrame:
    """The raw coded frame of the drawn columns (schemas.raw_dtypes)."""
    dtypes = schemas.raw_dtypes(inst)
    out = {}
    for c, v in cols.items():
        dtype = dtypes.get(c, "str")
        if dtype == "Int64":
            out[c] = pd.array(np.asarray(v, dtype=np.int64), dtype="Int64")
        elif dtype == "float64":
            out[c] = np.asarray(v, dtype=np.float64)
        else:
            out[c] = pd.array([None if x == "" else x for x in v], dtype="str") if len(v) else \
                pd.array([], dtype="str")
    return pd.DataFrame(out)


def _draw_block(inst, n: int, rng) -> pd.DataFrame:
    """n respondents' item answers (no metadata) as the raw coded frame."""
    cols: dict[str, np.ndarray] = {}
    for item in inst.items:
        if item.ask_if is not None:
            asked = item.ask_if.evaluate(_frame({v: cols[v] for v in item.ask_if.variables}, inst))
            asked = asked.to_numpy(dtype=bool)
        else:
            asked = np.ones(n, dtype=bool)
        na = item.not_applicable
        if item.type == "multi":
            for col, v in _multi(item, n, rng).items():
                cols[col] = np.where(asked, v, na)
            continue
        if item.type == "text":
            cols[item.var] = np.where(asked, _texts(item, n, rng), "")
            continue
        if item.type in ("single", "likert5", "scale"):
            v = _categorical(item, n, rng)
        elif item.type in ("integer", "number"):
            v = _with_missing(item, _numbers(item, n, rng), n, rng)
        else:  # date, datetime
            v = _with_missing(item, _dates(item, n, rng), n, rng)
        if v.dtype == object:
            cols[item.var] = np.where(asked, v, str(na))
        else:
            cols[item.var] = np.where(asked, v, na)
    return _frame(cols, inst)


def _draw_respondents(inst, n: int, rng) -> pd.DataFrame:
    """n respondents that meet every hard rule (violators are drawn again)."""
    hard = [r for r in inst.rules if r.builtin is None and r.severity == "hard"]
    parts, have = [], 0
    for _ in range(60):
        need = n - have
        block = _draw_block(inst, max(need + need // 4 + 8, 16), rng)
        ok = np.ones(len(block), dtype=bool)
        for rule in hard:
            ok &= ~rule.violations(block).to_numpy(dtype=bool)
        block = block[ok].iloc[:need]
        parts.append(block)
        have += len(block)
        if have >= n:
            return pd.concat(parts, ignore_index=True)
    names = ", ".join(r.id for r in hard)
    raise ValueError(f"instrument {inst.name!r}: random draws from the priors rarely meet the hard "
                     f"rule(s) {names}; adjust the priors or the rules")


# --------------------------------------------------------------------------- export text


def _fmt_number(x: float, decimals: int, sep: str) -> str:
    return f"{x:.{decimals}f}".replace(".", sep)


def _export_text(coded: pd.DataFrame, inst, rng, decimal: str) -> pd.DataFrame:
    n = len(coded)
    ids = np.array([f"R{i:07d}" for i in rng.choice(10**7, size=n, replace=False)], dtype=object)
    seconds = rng.integers(0, FIELD_DAYS * 86400, size=n)
    submitted = np.datetime_as_string(FIELD_START + seconds.astype("timedelta64[s]"), unit="s")
    text: dict[str, np.ndarray] = {}
    for m in inst.metadata:
        if m.type == "id":
            text[m.var] = ids
        elif m.type == "datetime":
            text[m.var] = submitted.astype(object)
        else:
            lo = m.min if m.min is not None else 0.0
            x = np.maximum(float(lo) + 60.0, np.exp(np.log(600.0) + 0.4 * rng.standard_normal(n)))
            if m.max is not None:
                x = np.minimum(x, float(m.max))
            text[m.var] = np.array([_fmt_number(v, 1, decimal) for v in x], dtype=object)
    missing = set(inst.missing_set)
    for item in inst.items:
        for col in item.columns:
            s = coded[col]
            if item.type == "number":
                v = s.to_numpy(dtype=np.float64)
                text[col] = np.array([str(int(x)) if x in missing else
                                      _fmt_number(x, item.decimals, decimal) for x in v], dtype=object)
            elif s.dtype == "Int64":
                text[col] = s.to_numpy(dtype=np.int64).astype(str).astype(object)
            else:
                text[col] = s.fillna("").to_numpy(dtype=object)
    frame = pd.DataFrame(text, columns=list(inst.columns))
    return frame


# --------------------------------------------------------------------------- planted errors


def _int_items(inst, types=("single", "likert5", "scale")):
    return [it for it in inst.items if it.type in types and not it.string_codes]


def _same(cell, code: int) -> bool:
    """A coded cell (int, float or text) holds the missing code `code`."""
    try:
        return float(cell) == code
    except (TypeError, ValueError):
        return False


def _plant(kind, frame, r, coded, inst, rng, decimal=","):
    """Plant one error of `kind` into row r; returns the record, or None if the row offers no
    place for it."""
    row = coded.iloc[r]
    missing = set(inst.missing_set)
    if kind == "invalid_code":
        items = [it for it in _int_items(inst) if row[it.var] != it.not_applicable]
        multi = [c for it in inst.items if it.type == "multi" for c in it.columns
                 if row[c] in (0, 1)]
        if not items and not multi:
            return None
        if multi and (not items or rng.random() < 0.2):
            col, value = multi[rng.integers(len(multi))], "2"
        else:
            item = items[rng.integers(len(items))]
            top = max([c for c in item.codes if isinstance(c, int)] + list(missing))
            col, value = item.var, str(top + 1 + int(rng.integers(0, 3)))
    elif kind == "skip_logic":
        items = [it for it in inst.items if it.ask_if is not None and it.type in
                 ("single", "likert5", "scale", "integer", "number", "date", "datetime")]
        if not items:
            return None
        item = items[rng.integers(len(items))]
        col = item.var
        cell = row[col]
        if _same(cell, item.not_applicable):  # answered although not asked
            if item.type in ("date", "datetime"):
                value = item.min
            elif item.type in ("integer", "number"):
                value = str(item.min if isinstance(item.min, int) else int(np.ceil(item.min)))
                if int(value) > item.max:
                    return None
            else:
                subs = item.substantive_codes
                value = str(subs[rng.integers(len(subs))])
        else:  # -7 although asked
            value = str(item.not_applicable)
    elif kind == "bad_number":
        items = [it for it in inst.items if it.type in ("integer", "number")
                 and pd.notna(row[it.var]) and row[it.var] not in missing]
        if not items:
            return None
        item = items[rng.integers(len(items))]
        col = item.var
        v = row[col]
        above = int(np.floor(item.max)) + 1 + int(rng.integers(0, 50))
        while above in missing:
            above += 1
        if item.type == "integer":
            value = [f"{int(v)},5", f"ca. {int(v)}", f"{int(v)} Stück", str(above)][rng.integers(4)]
        else:
            choices = [f"ca. {int(v)}", f"{int(v)} h", str(above)]
            if item.decimals < 6:  # two decimal places more than declared
                more = f"{v:.{item.decimals}f}" + ("." if item.decimals == 0 else "") + "07"
                choices.append(more.replace(".", decimal))
            value = choices[rng.integers(len(choices))]
    elif kind == "bad_date":
        items = [it for it in inst.items if it.type in ("date", "datetime")
                 and not any(_same(row[it.var], c) for c in missing)]
        if not items:
            return None
        item = items[rng.integers(len(items))]
        col = item.var
        value = ["2026-02-30", "0000-01-01", "31/12/2020", "gestern"][rng.integers(4)]
    else:
        return {"column": None, "value": None, "original": None}
    original = frame.at[r, col]
    frame.at[r, col] = value
    return {"column": col, "value": value, "original": original}


def _time_column(inst) -> str | None:
    return next((m.var for m in inst.metadata if m.type == "datetime"), None)


def _id_column(inst) -> str:
    ids = [m.var for m in inst.metadata if m.type == "id"]
    if not ids:
        raise ValueError(f"instrument {inst.name!r} declares no id column (metadata of type id): "
                         "a simulated export needs one to tell respondents apart")
    return ids[0]


def _plant_errors(frame, coded, inst, rng, error_rate, decimal=","):
    n = len(frame)
    k = round(error_rate * n)
    if k == 0:
        return frame, [], []
    time_col = _time_column(inst)
    counts = largest_remainder(k, np.ones(len(KINDS)))
    wanted = [kind for kind, c in zip(KINDS, counts) for _ in range(int(c))]
    rows = rng.permutation(n)
    records, extra = [], []
    ids = frame[_id_column(inst)].to_numpy(dtype=object)
    for kind, r in zip(wanted, rows[:k]):
        r = int(r)
        order = [kind] + [x for x in KINDS if x != kind]
        for attempt in order:
            if attempt == "duplicate_row":
                extra.append(("copy", frame.iloc[r].copy()))
                rec = {"column": None, "value": None, "original": None}
            elif attempt == "duplicate_response_id":
                if time_col is None:
                    continue
                copy = frame.iloc[r].copy()
                later = np.datetime64(frame.at[r, time_col]) + np.timedelta64(
                    int(rng.integers(600, 86400)), "s")
                copy[time_col] = str(later)
                extra.append(("other", copy))
                rec = {"column": time_col, "value": str(later),
                       "original": frame.at[r, time_col]}
            else:
                rec = _plant(attempt, frame, r, coded, inst, rng, decimal)
                if rec is None:
                    continue
            records.append({"kind": attempt, "response_id": ids[r], **rec, "row": r})
            break
    return frame, records, extra


def simulate_responses(inst, n: int = 300, seed: int = 0, error_rate: float = 0.05,
                       decimal: str = ",", separator: str = ";", encoding: str = "utf-8"
                       ) -> SimulatedExport:
    """Draw `n` respondents of `inst` and write their export text with planted errors.

    Example:
        >>> import schemas
        >>> a = simulate_responses(schemas.load_instrument("pharmacy_staff"), n=40, seed=3)
        >>> b = simulate_responses(schemas.load_instrument("pharmacy_staff"), n=40, seed=3)
        >>> a.to_bytes() == b.to_bytes()
        True
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0.0 <= error_rate <= 0.5:
        raise ValueError(f"error_rate must be between 0 and 0.5, got {error_rate}")
    if decimal not in (",", "."):
        raise ValueError(f"decimal must be ',' or '.', got {decimal!r}")
    if separator == decimal:
        raise ValueError("the separator and the decimal mark must differ")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
    _id_column(inst)
    coded = _draw_respondents(inst, n, rng)
    frame = _export_text(coded, inst, rng, decimal)
    planted: list = []
    if error_rate > 0:
        frame, records, extra = _plant_errors(frame, coded, inst, rng, error_rate, decimal)
        frame["__row"] = np.arange(len(frame))
        added = []
        for what, row in extra:
            added.append({**row.to_dict(), "__row": -1 - len(added), "__kind": what})
        if added:
            frame = pd.concat([frame, pd.DataFrame(added).drop(columns="__kind")],
                              ignore_index=True)
        keys = [frame["__row"].to_numpy(), frame[_id_column(inst)].to_numpy().astype(str)]
        time_col = _time_column(inst)
        if time_col is not None:
            keys.append(frame[time_col].to_numpy().astype(str))
        order = np.lexsort(tuple(keys))
        frame = frame.iloc[order].reset_index(drop=True)
        line_of = {int(v): i + 2 for i, v in enumerate(frame["__row"].to_numpy())}
        extra_lines = [line_of[-1 - j] for j in range(len(added))]
        j = 0
        for rec in records:
            r = rec.pop("row")
            if rec["kind"] == "duplicate_row":
                lines = [max(line_of[r], extra_lines[j])]  # the validator keeps the first copy
                j += 1
            elif rec["kind"] == "duplicate_response_id":
                lines = sorted([line_of[r], extra_lines[j]])
                j += 1
            else:
                lines = [line_of[r]]
            planted.append({**rec, "lines": lines, "expected": "quarantine"})
        frame = frame.drop(columns="__row")
        planted.sort(key=lambda p: p["lines"][0])
    settings = {"n": n, "decimal": decimal, "separator": separator}
    return SimulatedExport(inst, coded, frame, planted, int(seed), float(error_rate), separator,
                           decimal, encoding, settings)


def simulated_files(sim: SimulatedExport, command: str) -> dict[str, bytes]:
    """export.csv, truth.json and README.md of a simulation (name -> bytes)."""
    truth = sim.truth()
    inst = sim.instrument
    kinds = "\n".join(f"| {k} | {v} |" for k, v in truth["planted_by_kind"].items()) or "| - | 0 |"
    readme = f"""# Simulated responses: {inst.title.en} (seed {sim.seed})

Made by `{command}` (instrument {inst.name} {inst.version}, format {inst.format}). The same
arguments give byte-identical files. Simulated data: they say nothing about real respondents.

## Files

- `export.csv`: {len(sim.coded)} simulated respondents as a platform export: separator
  `{sim.separator}`, decimal mark `{sim.decimal}`, {sim.encoding}, CRLF; {len(sim.frame)} rows
  (planted duplicates included).
- `truth.json`: the settings, the planted errors (kind, response_id, column, value written,
  original value, the export line(s) validation must quarantine) and all quarantined lines.

Answers are drawn from the instrument's priors (uniform where it declares none), obeying its
skip logic, missing codes ({', '.join(str(c) for c in inst.missing_set)}) and hard rules.

## Planted errors (each must be quarantined)

| kind | rows |
|---|---:|
{kinds}
"""
    return {
        "README.md": readme.encode("utf-8"),
        "export.csv": sim.to_bytes(),
        "truth.json": (json.dumps(truth, indent=2, sort_keys=True, ensure_ascii=False,
                                  default=_json_default) + "\n").encode("utf-8"),
    }


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)

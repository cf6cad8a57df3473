"""Build small *valid* exports of an instrument for the ingestion tests (not the simulator).

Rows are drawn item by item in questionnaire order: a code (or allowed missing code) at random,
-7 where ``ask_if`` is false, multi-choice ticks that respect exclusive options and the maximum
number of selections, and the instrument's hard cross-item rules made true by construction.
Only the shape of the data matters here, not realistic distributions.
"""
from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd


def _codes(item) -> list:
    if item.type == "multi":
        return [o.code for o in item.options]
    return list(item.codes)


def _exclusive(item) -> list[str]:
    return list(item.exclusive_options)


MAIN_SOURCE_OPTION = {1: "kbv_kv", 2: "it_provider", 3: "pvs_vendor", 4: "bsi",
                      5: "chambers_assoc", 6: "trade_press", 7: "colleagues", 8: "insurer"}


def valid_coded(inst, n: int, seed: int = 0) -> pd.DataFrame:
    """A coded frame (ints/strings) of ``n`` valid responses of ``inst``."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(index=pd.RangeIndex(n))
    df["response_id"] = [f"r{seed:03d}-{i:05d}" for i in range(n)]
    minutes = rng.integers(0, 60 * 24 * 28, n)
    stamps = pd.Timestamp("2026-02-01T08:00:00") + pd.to_timedelta(minutes, unit="min")
    df["submitted_at"] = stamps.strftime("%Y-%m-%dT%H:%M:%S")
    df["duration_s"] = np.round(rng.uniform(600, 1500, n), 1)
    for item in inst.items:
        var, t = item.var, item.type
        missing = [m for m in item.missing if m not in _codes(item)]
        ask_if = item.ask_if
        asked = (np.ones(n, dtype=bool) if ask_if is None else
                 ask_if.evaluate(df).to_numpy(dtype=bool))
        if t == "multi":
            options = [str(o) for o in _codes(item)]
            excl = _exclusive(item)
            cap = item.max_select or len(options)
            ticks = np.zeros((n, len(options)), dtype=np.int64)
            k = rng.integers(1, min(cap, 3) + 1, n)
            for i in range(n):  # small n in tests; clarity over speed
                normal = [j for j, o in enumerate(options) if o not in excl]
                if excl and rng.random() < 0.1:
                    ticks[i, options.index(excl[0])] = 1
                else:
                    ticks[i, rng.choice(normal, size=k[i], replace=False)] = 1
            no_answer = asked & (rng.random(n) < 0.03) if -9 in missing else np.zeros(n, bool)
            for j, o in enumerate(options):
                col = np.where(asked, ticks[:, j], -7)
                df[f"{var}__{o}"] = np.where(no_answer, -9, col)
            continue
        if t == "text":
            df[var] = np.where(rng.random(n) < 0.7, "", "Alles gut; \"danke\", wirklich")
            continue
        if t == "integer":
            if var == "n_physicians":
                vals = rng.integers(1, 4, n)
            elif var == "n_persons_data":
                vals = df["n_physicians"].to_numpy() + rng.integers(0, 25, n)
            else:
                vals = rng.integers(0, 20, n)
        else:
            choices = _codes(item) + missing
            vals = np.asarray(choices, dtype=object)[rng.integers(0, len(choices), n)]
        if t != "text" and all(isinstance(c, (int, np.integer)) for c in _codes(item) or [0]):
            vals = np.asarray(vals, dtype=np.int64)
        df[var] = np.where(asked, vals, -7) if ask_if is not None else vals
    # hard cross-item rules, made true by construction
    if "incident_ever" in df and "incident_12m" in df:
        df.loc[df["incident_12m"] == 1, "incident_ever"] = 1
    if "info_source_main" in df:
        for code, option in MAIN_SOURCE_OPTION.items():
            rows = (df["info_source_main"] == code) & (df["info_sources__none"] == 0)
            df.loc[rows, f"info_sources__{option}"] = 1
        unanswered = df["info_sources__none"] == -9
        df.loc[unanswered & (df["info_source_main"] != -7), "info_source_main"] = -9
    return df


def to_text(coded: pd.DataFrame) -> pd.DataFrame:
    """The coded frame as the text a CSV export holds (integers without decimals)."""
    out = pd.DataFrame(index=coded.index)
    for c in coded.columns:
        out[c] = coded[c].astype(str)
    return out


def to_csv_bytes(text: pd.DataFrame, sep: str = ",", encoding: str = "utf-8",
                 bom: bool = False, quote_all: bool = False, newline: str = "\n") -> bytes:
    """Serialise like a survey platform or Excel would."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=sep, quotechar='"', lineterminator=newline,
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(list(text.columns))
    w.writerows(text.itertuples(index=False, name=None))
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def write_export(path, inst, n: int = 20, seed: int = 0, **kwargs) -> pd.DataFrame:
    """Write a valid export to ``path`` and return its text frame."""
    text = to_text(valid_coded(inst, n, seed))
    path.write_bytes(to_csv_bytes(text, **kwargs))
    return text

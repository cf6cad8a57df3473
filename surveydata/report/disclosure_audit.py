"""The attacker's audit of everything a report publishes, all pages together.

Every count table published through :func:`surveydata.report.disclosure.suppression_mask` (the report's
quarantine reasons, flags, response rates, sample composition, item nonresponse and answer
frequencies) is recorded: while the report builder runs a notebook it sets the environment variable
:data:`surveydata.report.disclosure.RECORD_ENV` to a file, and each table is appended to it as one JSON
line (:func:`record_table`): its cells (what each counts, its true value, published or
suppressed, sensitive or not) and its additivity relations (a total = the sum of its parts).
These records hold true values: they stay in the builder's temporary directory and are never
published.

After the pages are built, :func:`audit` plays the attacker against all records at once: one
unknown per distinct quantity (cells of different tables that count the same respondents are
the same unknown - a crosstab's margin on one page and a one-way table of the same variable on
another), every published value fixed, every relation of every table, counts whole and >= 0.
For each suppressed sensitive cell it minimises and maximises the cell (an integer program with
HiGHS; an LP would be a weaker attacker) and compares the interval with the policy's protection
levels. :func:`write_report` writes ``disclosure.json`` (page, table, cell, attacker interval,
required distances, pass); :meth:`AuditResult.raise_if_failed` refuses a report in which any
cell fails.

What ``disclosure.json`` shows is what any reader can compute from the pages (the attacker's
interval) and the policy's distances; it never shows a suppressed cell's value.

Published percentages are recorded as the counts they imply (a share of a published total
fixes its count to within rounding; the audit assumes the attacker knows it exactly, the safe
side). The respondent counts (n) printed beside estimates are counts too: a domain table's
cells are recorded per item as the groups by answered / not answered, whose row totals are the
group sizes of its first row (an item everybody answered prints each group's size); a
multiple-choice option as ticked + not ticked = the item's respondents. The n of an overall
estimate is taken as published wherever a table's total is that count (the item nonresponse
table marks each item's answered count ``published``, the domain tables their column totals).

Two cells are the same quantity when they count the same key (the variables and levels that
define them, e.g. ``{"region": "north"}``; a table's total row drops its row variable) and
have the same true value. Linking on the true value too is conservative: it can only give the
attacker an equality that holds.

Example
-------
>>> import pandas as pd
>>> from surveydata.report import disclosure as dc
>>> t = pd.DataFrame({"yes": [2, 10], "no": [9, 11]}, index=pd.Index(["north", "south"], name="region"))
>>> rec = table_record(dc.with_totals(t), dc.suppression_mask(t), True, True, dc.DisclosurePolicy())
>>> result = audit([dict(rec, page="p1.html")])
>>> result.passed, [c["attacker_interval"] for c in result.cells if c["sensitive"]]
(True, [[0.0, 11.0]])
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from surveydata.errors import SurveyDataError
from surveydata.report import disclosure as dc
from surveydata.report.disclosure import (  # recorded where tables are made
    record_table,
    table_record,
)

__all__ = ["AuditResult", "DisclosureAuditError", "audit", "audit_directory", "publish_audit",
           "read_records", "record_table", "table_record", "write_report"]

RECORD_SUFFIX = ".disclosure.jsonl"
REPORT_FILE = "disclosure.json"


class DisclosureAuditError(SurveyDataError):
    """A published cell is not protected; the report is not published."""


def read_records(directory, page_of=None) -> list[dict]:
    """Every table recorded in ``directory`` (files ``<notebook>.disclosure.jsonl``), in page and
    publication order; ``page_of(stem)`` names the page (default ``<stem>.html``)."""
    page_of = page_of or (lambda stem: f"{stem}.html")
    out = []
    for path in sorted(Path(directory).glob(f"*{RECORD_SUFFIX}")):
        stem = path.name[: -len(RECORD_SUFFIX)]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                rec = json.loads(line)
                rec["page"] = page_of(stem)
                rec["number"] = n
                out.append(rec)
    return out


@dataclass
class AuditResult:
    """The audit's findings: one entry per suppressed sensitive cell and per published small cell."""

    policy: dict
    tables: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    published_small: list = field(default_factory=list)

    @property
    def failures(self) -> list:
        return [c for c in self.cells if not c["pass"]] + self.published_small

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict:
        """What ``disclosure.json`` holds (no suppressed value)."""
        public = [{k: c[k] for k in ("page", "table", "cell", "sensitive", "required", "pass")}
                  | {"attacker_interval": [_finite(x) for x in c["attacker_interval"]]}
                  for c in self.cells]
        return {"policy": self.policy, "passed": self.passed, "tables": self.tables,
                "suppressed_cells": public,
                "published_below_min_cell": [{k: c[k] for k in ("page", "table", "cell")}
                                             for c in self.published_small]}

    def to_json(self) -> str:
        """The text of ``disclosure.json``."""
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n"

    def raise_if_failed(self) -> None:
        """Refuse the report: a one-line message per failing cell (page, table, cell, interval)."""
        if self.passed:
            return
        lines = []
        for c in self.failures:
            where = f"{c['page']}, table {c['table']!r}, cell {c['cell']}"
            if "attacker_interval" in c:
                lo, hi = c["attacker_interval"]
                lines.append(f"{where}: an attacker bounds it to [{lo:g}, {hi:g}], which does not "
                             f"reach {c['required']['below']} below and {c['required']['above']} "
                             "above its value")
            else:
                lines.append(f"{where}: published with fewer than {self.policy['min_cell']} respondents")
        raise DisclosureAuditError(
            "disclosure audit failed, the report was not published: " + "; ".join(lines)
            + ". Fix: suppress the table's cells together with every table that shares them "
              "(the same counts on another page), or publish fewer totals")


def _finite(x: float):
    """JSON has no infinity: an interval unbounded above is written with null."""
    return None if np.isinf(x) else x


def _bounds(A, b, nvar: int, lb: np.ndarray, ub: np.ndarray, target: int) -> tuple[float, float]:
    """Integer min and max of variable ``target`` subject to A x = b, lb <= x <= ub."""
    c = np.zeros(nvar)
    c[target] = 1.0
    out = []
    for sign in (1.0, -1.0):
        lp = linprog(sign * c, A_eq=A, b_eq=b, bounds=list(zip(lb, ub)), method="highs")
        if lp.status == 3:
            out.append(-np.inf if sign > 0 else np.inf)
            continue
        if lp.status != 0:
            raise DisclosureAuditError(f"disclosure audit: the published tables contradict each "
                                       f"other ({lp.message}); a table's cells do not add up")
        with dc._quiet_solver():
            ip = milp(sign * c, constraints=LinearConstraint(A, b, b), integrality=np.ones(nvar),
                      bounds=Bounds(lb, ub), options={"mip_rel_gap": 0.0})
        value = sign * (ip.fun if ip.status == 0 else lp.fun)
        out.append(float(round(value, 6)) + 0.0)
    return out[0], out[1]


def audit(records: list[dict], policy=None) -> AuditResult:
    """Attack all recorded tables together; ``policy`` defaults to the strictest recorded one.

    >>> audit([]).passed
    True
    """
    if policy is None and records:
        recorded = [dc.DisclosurePolicy.from_any(r["policy"]) for r in records]
        policy = max(recorded, key=lambda p: (p.min_cell, p.lower_level, p.upper_level))
    pol = dc.DisclosurePolicy.from_any(policy)
    result = AuditResult(policy=pol.as_dict())
    var_of: dict[tuple[str, float], int] = {}
    published: dict[int, float] = {}
    rows = []
    cell_var = []
    for t, rec in enumerate(records):
        result.tables.append({"page": rec.get("page"), "table": rec["table"],
                              "cells": len(rec["cells"]),
                              "suppressed": sum(c["suppressed"] for c in rec["cells"])})
        ids = []
        for cell in rec["cells"]:
            v = var_of.setdefault((cell["key"], cell["value"]), len(var_of))
            ids.append(v)
            if not cell["suppressed"]:
                published[v] = cell["value"]
                if 0 < cell["value"] < pol.min_cell:
                    result.published_small.append({"page": rec.get("page"), "table": rec["table"],
                                                   "cell": [cell["row"], cell["column"]]})
        cell_var.append(ids)
        for total, parts in rec["relations"]:
            row = {ids[total]: -1.0}
            for p in parts:
                row[ids[p]] = row.get(ids[p], 0.0) + 1.0
            rows.append(row)
    nvar = len(var_of)
    if nvar == 0:
        return result
    values = np.zeros(nvar)
    for (_, value), v in var_of.items():
        values[v] = value
    A = sparse.lil_matrix((max(len(rows), 1), nvar))
    for r, row in enumerate(rows):
        for v, coef in row.items():
            A[r, v] = coef
    A = A.tocsr()
    b = np.zeros(A.shape[0])
    lb = np.zeros(nvar)
    ub = np.full(nvar, np.inf)
    for v, value in published.items():
        lb[v] = ub[v] = value
    lower, upper = pol.lower_level, pol.upper_level
    seen = set()
    for rec, ids in zip(records, cell_var):
        for cell, v in zip(rec["cells"], ids):
            if not cell["suppressed"] or not cell["sensitive"]:
                continue
            value = cell["value"]
            need_below = {"small": min(lower, value), "zero": 0,
                          "full": max(1, min(lower, value))}[cell["sensitive"]]
            need_above = {"small": upper, "zero": max(upper, 1), "full": 0}[cell["sensitive"]]
            if (v, need_below, need_above) in seen:
                lo, hi = next(c["attacker_interval"] for c in result.cells if c["_var"] == v)
            else:
                lo, hi = _bounds(A, b, nvar, lb, ub, v)
            seen.add((v, need_below, need_above))
            ok = lo <= value - need_below + 1e-6 and hi >= value + need_above - 1e-6
            result.cells.append({"page": rec.get("page"), "table": rec["table"],
                                 "cell": [cell["row"], cell["column"]], "sensitive": cell["sensitive"],
                                 "attacker_interval": [lo, hi],
                                 "required": {"below": lower if cell["sensitive"] != "zero" else 0,
                                              "above": need_above, "or_down_to": 0},
                                 "pass": bool(ok), "_var": v})
    return result


def audit_directory(directory, policy=None, page_of=None) -> AuditResult:
    """:func:`audit` of every table recorded in ``directory`` (see :func:`read_records`)."""
    return audit(read_records(directory, page_of), policy)


def publish_audit(directory, out_dir, policy=None, page_of=None) -> Path:
    """Audit the tables recorded in ``directory``; refuse (raise, write nothing) if any cell
    fails, else write ``out_dir/disclosure.json`` and return its path. What the report builder
    calls after the pages are made and before any of them is put in place."""
    result = audit_directory(directory, policy, page_of)
    result.raise_if_failed()
    return write_report(result, out_dir)


def write_report(result: AuditResult, out_dir) -> Path:
    """Write ``disclosure.json`` into ``out_dir`` (no timestamps)."""
    path = Path(out_dir) / REPORT_FILE
    path.write_text(result.to_json(), encoding="utf-8")
    return path

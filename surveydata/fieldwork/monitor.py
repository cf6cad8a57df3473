"""Fieldwork progress from the database: invited, started, completed and broken off by group.

`status(store, study, q)` returns a `FieldworkStatus` with one row per group (the study's
fieldwork target variable, e.g. a region, when the frame has it; else the stratum):
invited, started, completed, broken_off, response_rate, target rate and whether the group is
below it; plus the median duration of completed responses, where broken-off respondents left
(the last page they submitted) and the unit keys still owed a response (for a reminder wave:
join them with the invitation file, the only place the tokens are in clear).

Example:
    >>> from surveydata.fieldwork.store import Store
    >>> from surveydata.fieldwork.study import load
    >>> from surveydata.fieldwork.form import Questionnaire
    >>> s = load(None)
    >>> st = status(Store("sqlite://"), s, Questionnaire(s.instrument))
    >>> st.totals["invited"], st.median_duration_s
    (0, None)
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["FieldworkStatus", "status"]


@dataclass
class FieldworkStatus:
    by: str
    rows: list[dict]
    totals: dict
    anonymous: dict
    median_duration_s: float | None
    break_off_pages: list[tuple[str, int]]
    reminder_units: list[str]
    target_rate: float | None = None
    devices: dict = field(default_factory=dict)

    def text(self) -> str:
        """A plain-text table for the terminal."""
        head = f"{self.by:<24}{'invited':>9}{'started':>9}{'complete':>9}{'broken':>8}{'rate':>8}"
        lines = [head + ("   target" if self.target_rate is not None else "")]
        for r in [*self.rows, {**self.totals, "group": "total"}]:
            rate = "" if r["response_rate"] is None else f"{100 * r['response_rate']:.1f}%"
            line = (f"{str(r['group'])[:23]:<24}{r['invited']:>9}{r['started']:>9}"
                    f"{r['completed']:>9}{r['broken_off']:>8}{rate:>8}")
            if self.target_rate is not None and r["group"] != "total":
                line += f"   {100 * self.target_rate:.0f}%" + (" BELOW" if r["below_target"]
                                                              else "")
            lines.append(line)
        a = self.anonymous
        if a["started"]:
            lines.append(f"anonymous: {a['started']} started, {a['completed']} completed")
        med = ("-" if self.median_duration_s is None
               else f"{self.median_duration_s / 60:.1f} min")
        lines.append(f"median duration (completed): {med}")
        if self.break_off_pages:
            lines.append("broken off after page: " + ", ".join(
                f"{p} ({n})" for p, n in self.break_off_pages))
        if self.devices:
            lines.append("devices: " + ", ".join(f"{k} {v}" for k, v in
                                                  sorted(self.devices.items())))
        lines.append(f"units owed a response (reminder wave): {len(self.reminder_units)}")
        return "\n".join(lines)


def _rate(completed: int, invited: int) -> float | None:
    return completed / invited if invited else None


def status(store, study, q) -> FieldworkStatus:
    """The fieldwork status of `study` in `store` (see the module docstring)."""
    units = store.units(study.name)
    responses = store.responses(study.name)
    by_unit = {r.unit_id: r for r in responses if r.unit_id is not None}
    by_var = study.targets.get("by")
    use_var = bool(by_var) and bool(units) and all(by_var in u.frame for u in units)
    label = by_var if use_var else "stratum"
    target = study.targets.get("response_rate")
    groups: dict[str, dict] = {}
    reminders = []
    for u in units:
        key = str(u.frame[by_var]) if use_var else (u.stratum or "(none)")
        g = groups.setdefault(key, {"group": key, "invited": 0, "started": 0, "completed": 0,
                                    "broken_off": 0})
        g["invited"] += 1
        r = by_unit.get(u.id)
        if r is not None:
            g["started"] += 1
            if r.completed_at is not None:
                g["completed"] += 1
            else:
                g["broken_off"] += 1
        if r is None or r.completed_at is None:
            reminders.append(u.unit_key)
    rows = [groups[k] for k in sorted(groups)]
    for g in rows:
        g["response_rate"] = _rate(g["completed"], g["invited"])
        g["below_target"] = (target is not None and g["response_rate"] is not None
                             and g["response_rate"] < target)
    totals = {k: sum(g[k] for g in rows) for k in ("invited", "started", "completed",
                                                   "broken_off")}
    totals["response_rate"] = _rate(totals["completed"], totals["invited"])
    anon = [r for r in responses if r.unit_id is None]
    durations = [r.completed_at - r.started_at for r in responses if r.completed_at is not None]
    broken = Counter(q.pages[r.last_page].name if r.last_page is not None else "(first page)"
                     for r in responses if r.completed_at is None)
    return FieldworkStatus(
        by=label, rows=rows, totals=totals,
        anonymous={"started": len(anon),
                   "completed": sum(r.completed_at is not None for r in anon)},
        median_duration_s=statistics.median(durations) if durations else None,
        break_off_pages=broken.most_common(), reminder_units=reminders, target_rate=target,
        devices=dict(Counter(r.device_class for r in responses)))

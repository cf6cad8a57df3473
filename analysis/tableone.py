""""Table 1": weighted characteristics of a sample, overall and by group, with design-based tests
(as gtsummary's ``tbl_svysummary`` with ``add_p``).

For each variable, each column (overall, then every level of ``by``) shows

* a categorical variable: per category the unweighted n and the weighted percentage with its
  confidence interval (R's ``svyciprop``, logit by default), and the respondents with a missing
  value; the p value per variable is the Rao-Scott F test of independence (R's ``svychisq``);
* a numeric variable: the unweighted n, the weighted mean with its t(degf) interval and the
  number missing; the p value is the Wald F test of the group in ``svyglm(x ~ group)`` (R's
  ``regTermTest``).

Estimates per group are those of the subset of the design (R's ``subset(design, group == g)``):
every PSU stays in the variance. ``TableOne.to_frame()`` is the tidy table (one row per
variable x category x column); ``display_frame()`` the table as published; ``publication()``
the same as an :class:`analysis.pubtable.PublicationTable`, the one renderer of publication
tables (the report's too), whose ``to_html``, ``to_latex`` (great-tables), ``to_docx``
(python-docx) and ``to_excel`` (openpyxl) write it.

>>> import pandas as pd
>>> from analysis import SurveyDesign
>>> df = pd.DataFrame({"g": list("aabb"), "x": [1.0, 2, 3, 5], "c": list("yxyy"), "w": [1.0, 1, 2, 2]})
>>> t1 = table_one(SurveyDesign(df, weights="w"), ["x", "c"], by="g", tests=False)
>>> t1.to_frame().query("variable == 'x'")[["column", "n", "estimate"]].values.tolist()
[['Overall', 4, 3.1666666666666665], ['a', 2, 1.5], ['b', 2, 4.0]]
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import AnalysisError
from .factors import factor_levels, is_categorical

__all__ = ["TableOne", "table_one"]

OVERALL = "Overall"


class TableOneError(AnalysisError):
    """A Table 1 cannot be built as asked (unknown variable, a group without respondents)."""


@dataclass
class TableOne:
    """The result of :func:`table_one`: tidy numbers, tests, and renderings."""

    rows: pd.DataFrame                 # tidy: variable, level, column, n, estimate, se, ci_low, ci_high, kind
    tests: pd.DataFrame                # per variable: test, statistic, ndf, ddf, p
    columns: list = field(default_factory=list)
    level: float = 0.95
    labels: dict = field(default_factory=dict)
    digits: int = 1

    def to_frame(self) -> pd.DataFrame:
        """One row per variable x category x column, with the variable's p value."""
        out = self.rows.merge(self.tests[["p"]], left_on="variable", right_index=True, how="left")
        return out.reset_index(drop=True)

    # ---- the published table --------------------------------------------------------------
    def _cell(self, r) -> str:
        if r["kind"] == "missing":
            return f"{int(r['n'])}"
        if not np.isfinite(r["estimate"]):
            return "–"
        scale, d = (100.0, self.digits) if r["kind"] == "percent" else (1.0, self.digits)
        est, lo, hi = (r[c] * scale for c in ("estimate", "ci_low", "ci_high"))
        ci = "" if not (np.isfinite(lo) and np.isfinite(hi)) else f" ({lo:.{d}f}, {hi:.{d}f})"
        return f"{est:.{d}f}{ci}"

    def display_frame(self) -> pd.DataFrame:
        """The table as published: a row per variable (numeric) or category, a column pair
        (n, estimate with CI) per group, and the p value; one header row."""
        pct = round(100 * self.level)
        rows = []
        for (var, level), part in self.rows.groupby(["variable", "level"], sort=False, dropna=False):
            kind = part["kind"].iloc[0]
            label = self.labels.get(var, var)
            if kind == "missing":
                name = f"{label}: missing"
            elif kind == "mean":
                name = f"{label}, mean ({pct}% CI)"
            else:
                name = f"{label}: {level}, % ({pct}% CI)"
            row = {"Characteristic": name}
            for col in self.columns:
                cell = part[part["column"] == col]
                if cell.empty:
                    row[f"{col} n"], row[f"{col}"] = "", ""
                    continue
                r = cell.iloc[0]
                row[f"{col} n"] = "" if kind == "missing" else f"{int(r['n'])}"
                row[f"{col}"] = self._cell(r)
            first = not rows or rows[-1]["_var"] != var
            p = self.tests["p"].get(var, np.nan) if first else np.nan
            row["p"] = "" if not np.isfinite(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")
            row["_var"] = var
            rows.append(row)
        out = pd.DataFrame(rows).drop(columns="_var")
        if self.tests.empty:
            out = out.drop(columns="p")
        return out

    def publication(self):
        """The published table as an :class:`analysis.pubtable.PublicationTable` (the renderer
        the report's tables go through too): a spanner per column, n and estimate under it."""
        from .pubtable import PublicationTable  # noqa: PLC0415

        frame = self.display_frame()
        header, spanners = ["Characteristic"], [""]
        for col in self.columns:
            header += ["n", "estimate"]
            spanners += [str(col), str(col)]
        if "p" in frame:
            header.append("p")
            spanners.append("")
        pct = round(100 * self.level)
        note = (f"Weighted percentages and means with {pct}% confidence intervals (design-based); "
                f"n = respondents (unweighted).")
        if not self.tests.empty:
            note += " p: Rao-Scott F test (categories), Wald F test (means)."
        # a fixed id: great-tables otherwise draws a random one (outputs must be deterministic)
        return PublicationTable(header=header, rows=frame.astype(str).values.tolist(), stub=1,
                                spanners=spanners, title="Table 1", notes=[note], id="table-one",
                                hidden_label="Characteristic")

    def _gt(self):
        return self.publication().gt(title=True)

    def to_html(self) -> str:
        """HTML table (great-tables, through :class:`analysis.pubtable.PublicationTable`)."""
        return self.publication().to_html()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """As the publication table shows itself: HTML, text and its cells (for the report)."""
        return self.publication()._repr_mimebundle_(include, exclude)

    def __repr__(self) -> str:
        return self.display_frame().to_string(index=False)

    def to_latex(self) -> str:
        """LaTeX table (great-tables; needs booktabs)."""
        return self.publication().to_latex()

    def to_excel(self, path) -> None:
        """Excel workbook: the published table and the tidy numbers, one sheet each."""
        self.publication().to_excel(path, sheet="Table 1", extra={"numbers": self.to_frame()})

    def to_docx(self, path) -> None:
        """Word document with the table and its note (python-docx)."""
        self.publication().to_docx(path)


def table_one(design, variables, by: str | None = None, level: float = 0.95, tests: bool = True,
              ci_method: str = "logit", labels: dict | None = None, digits: int = 1) -> TableOne:
    """Weighted characteristics of ``variables``, overall and by ``by`` (see the module doc).

    labels: display names per variable (e.g. from the instrument); digits: decimals shown.
    """
    data = design.data
    if isinstance(variables, str):
        variables = [variables]
    unknown = [v for v in [*variables, *([by] if by else [])] if v not in data.columns]
    if unknown:
        raise TableOneError(f"table_one(): {unknown} not in the design's data")
    inside = np.asarray(design.domain, dtype=bool)
    columns = [OVERALL]
    masks = {OVERALL: inside}
    if by is not None:
        for g in factor_levels(data[by][inside]):
            masks[g] = inside & (data[by] == g).to_numpy()
            columns.append(g)
    rows, test_rows = [], {}
    for var in variables:
        col = data[var]
        for name, mask in masks.items():
            sub = design if name == OVERALL else design.subset(mask)
            present = mask & col.notna().to_numpy()
            n_missing = int((mask & col.isna().to_numpy()).sum())
            if is_categorical(col):
                levels = factor_levels(col[inside])
                counts = col[present].value_counts()
                if present.any():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")   # 0 % / 100 % cells: CI is NaN, shown as such
                        est = sub.proportion(var, ci_method=ci_method, na_rm=True, conf_level=level)
                    values = est.reset_index(level="variable", drop=True)
                for lev in levels:
                    r = {"variable": var, "level": lev, "column": name, "kind": "percent",
                         "n": int(counts.get(lev, 0)), "estimate": np.nan, "se": np.nan,
                         "ci_low": np.nan, "ci_high": np.nan}
                    if present.any() and lev in values.index:
                        r.update(values.loc[lev, ["estimate", "se", "ci_low", "ci_high"]].to_dict())
                    elif present.any():
                        r.update(estimate=0.0)
                    rows.append(r)
            else:
                r = {"variable": var, "level": "", "column": name, "kind": "mean",
                     "n": int(present.sum()), "estimate": np.nan, "se": np.nan, "ci_low": np.nan,
                     "ci_high": np.nan}
                if present.any():
                    est = sub.mean(var, na_rm=True, df=sub.degf, level=level)
                    r.update(est.iloc[0][["estimate", "se", "ci_low", "ci_high"]].to_dict())
                rows.append(r)
            if n_missing or any(data[var][inside].isna()):
                rows.append({"variable": var, "level": "missing", "column": name, "kind": "missing",
                             "n": n_missing, "estimate": np.nan, "se": np.nan, "ci_low": np.nan,
                             "ci_high": np.nan})
        if tests and by is not None:
            test_rows[var] = _test(design, var, by, is_categorical(col))
    tests_frame = pd.DataFrame.from_dict(test_rows, orient="index",
                                         columns=["test", "statistic", "ndf", "ddf", "p"])
    return TableOne(rows=pd.DataFrame(rows), tests=tests_frame, columns=columns, level=level,
                    labels=dict(labels or {}), digits=digits)


def _test(design, var: str, by: str, categorical: bool) -> list:
    """Rao-Scott F (categories) or the Wald F of the group in svyglm(var ~ group) (means)."""
    if categorical:
        t = design.crosstab(var, by).tests["F"]
        return ["Rao-Scott F", t.statistic, t.ndf, t.ddf, t.p]
    from .models import svyglm  # noqa: PLC0415 (lazy: statsmodels)

    keep = design.data[var].notna().to_numpy()
    sub = design if keep.all() else design.subset(keep)
    term = f'C(Q("{by}"))'
    fit = svyglm(f'Q("{var}") ~ {term}', sub)
    w = fit.wald_test(term)
    return ["Wald F", w.statistic, w.df, w.ddf, w.p_value]

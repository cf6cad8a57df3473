"""The report layer: published tables, figures, findings and the HTML report, above `analysis`.

surveydata's ingestion (read, validate, export) does not import this package; the report layer
uses all three packages (schemas, surveydata's ingestion, analysis).

=====================  ===================================================================
module                 job
=====================  ===================================================================
``build``              ``build_report``: run the notebooks, render pages, publish as one transaction
``data``               ``load_data``: the validated, weighted report data a notebook works on
``pages``              the generic pages' sections (quality, sample, estimates, models)
``pages_imputation``   the multiple-imputation section of the estimates page
``findings``           key findings in words, from the estimates, in both languages
``tables``             publication tables (with disclosure control)
``plots``              figures (Okabe-Ito palette, generated alt text)
``html``               notebook -> page rendering, the shared stylesheet (``assets/report.css``)
``methods``            the methods page from the study declaration and the data
``disclosure``         minimum cell size and least-cost secondary suppression
``disclosure_audit``   the attacker's audit of every published table together
``i18n``               the report's words in German and English
=====================  ===================================================================

``build_report``, ``execute_in_place`` and ``ReportError`` are importable from here; the import
is lazy, so a notebook importing ``surveydata.report.tables`` does not load papermill.
"""

from __future__ import annotations

__all__ = ["ReportError", "build_report", "execute_in_place"]


def __getattr__(name: str):
    if name in __all__:
        from surveydata.report import build  # noqa: PLC0415 - lazy: papermill loads only for a build

        return getattr(build, name)
    raise AttributeError(f"module 'surveydata.report' has no attribute {name!r}")

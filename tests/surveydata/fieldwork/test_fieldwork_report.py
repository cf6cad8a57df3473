"""Collected data go through the pipeline unchanged: 300 valid responses of the embedded
(simulated) survey are given through the questionnaire logic into the fieldwork database, with
their frame (strata and N_h); `export_study` writes export.csv, frame.csv and strata.csv, and
`surveydata validate` and `surveydata report` run on them as on any export."""
from __future__ import annotations

import csv

import pytest

from surveydata import read_export, validate
from surveydata.demo import DEMO_DIR
from surveydata.fieldwork import Questionnaire, Store, export_study, load_study, tokens


@pytest.mark.slow
def test_a_fieldwork_export_validates_and_builds_the_report(tmp_path):
    from surveydata.report.build import build_report

    study = load_study(None)
    q = Questionnaire(study.instrument)
    raw = read_export(DEMO_DIR / "export.csv", q.inst)
    res = validate(raw, q.inst)
    rows = raw[~raw["line"].isin(set(res.quarantine["line"]))].head(300)
    with open(DEMO_DIR / "strata.csv", encoding="utf-8") as fh:
        n_h = {r["stratum"]: r["N_h"] for r in csv.DictReader(fh)}
    url = f"sqlite:///{tmp_path / 'fw.sqlite'}"
    store = Store(url)
    units = []
    for k, (_, rec) in enumerate(rows.iterrows()):
        stratum = f"{rec['practice_type'].strip()}-{rec['federal_state'].strip()}"
        units.append({"unit_key": f"U{k:04d}", "token_hash": tokens.token_hash(tokens.new_token()),
                      "stratum": stratum, "frame": {"N_h": n_h[stratum]}})
    store.add_units(study.name, units)
    for unit, (_, rec) in zip(store.units(study.name), rows.iterrows()):
        want = {c: (int(rec[c].strip()) if q.dtypes[c] == "Int64" else (rec[c].strip() or None))
                for c in q.page_of}
        r = store.start_response(study.name, unit.id, lang="de")
        latest = {}
        for page in q.pages:
            before, _, _ = q.assemble(latest, upto=page.index)
            shown = q.asked(page, before)
            if shown:
                answers, problems = q.parse(page, shown, q.to_form(page, want))
                assert not problems and not q.errors({**before, **answers}, page)
                store.append_submission(r.id, page.index, answers, "desktop")
                latest[page.index] = answers
        store.complete(r.id)
    out = export_study(study, url, tmp_path / "data")
    assert set(out) == {"export", "frame", "strata", "paradata"}
    checked = validate(read_export(out["export"], q.inst), q.inst)
    assert checked.report["n_valid"] == 300 and checked.report["n_quarantined"] == 0
    index = build_report(tmp_path / "report", data=out["export"], progress=False)
    assert index.exists() and "<html" in index.read_text(encoding="utf-8").lower()

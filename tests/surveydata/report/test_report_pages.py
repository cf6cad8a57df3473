"""Sections of the generic report pages (surveydata.report.pages) checked on fitted models and
domain estimates: what each section displays, with the numbers of the fit or the estimates."""
from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import analysis
from surveydata.report import pages

LABELS = {"trained": "Trained", "equip_share": "Equipment share", "sources": "Sources used",
          "size": "Size", "y": "Outcome"}


def _rd(lang="en"):
    return SimpleNamespace(lang=lang, label=lambda v: LABELS.get(v, v))


@pytest.fixture(scope="module")
def fit():
    rng = np.random.default_rng(11)
    n = 300
    df = pd.DataFrame({"size": rng.choice(["a small", "b medium", "c large"], n),
                       "trained": rng.integers(0, 2, n).astype(float),
                       "equip_share": rng.uniform(0, 1, n),
                       "sources": rng.integers(0, 7, n).astype(float),
                       "w": rng.uniform(1, 3, n)})
    df["y"] = (rng.uniform(size=n) < 0.2 + 0.3 * df["equip_share"]).astype(float)
    df.loc[:19, "trained"] = np.nan            # 20 rows without trained
    df.loc[280:, "sources"] = np.nan           # 20 rows without sources
    return analysis.svyglm("y ~ trained + equip_share + sources + C(size)",
                           analysis.SurveyDesign(df, weights="w"), family="quasibinomial")


def _shown(monkeypatch, section, *args):
    out = []
    monkeypatch.setattr(pages, "_display", lambda *objs: out.extend(o for o in objs if o is not None))
    monkeypatch.setattr(pages.plots, "forest_plot", lambda *a, **k: None)
    section(*args)
    return out


def test_model_section_states_n_used_why_rows_were_dropped_and_units(monkeypatch, fit):
    from analysis.pubtable import PublicationTable

    assert int(fit.nobs) == 260                 # 300 - 20 - 20 (no overlap)
    model = SimpleNamespace(label="Outcome model", ratio="OR")
    shown = _shown(monkeypatch, pages.models_section, _rd(), {"m": (model, fit, fit)})
    table = next(o for o in shown if isinstance(o, PublicationTable))
    note = " ".join(table.notes)
    assert note.startswith(f"n = {int(fit.nobs)} of 300 respondents in the model.")
    assert "40 left out for a missing value in: Trained (20), Sources used (20)" in note
    # the ratio of a share is per change from 0 to 100 %, of a 0/1 variable yes vs no
    assert "Equipment share: change from 0 to 1 (0% to 100%)" in note
    assert "Trained: yes vs no" in note and "Sources used: per 1 unit (range 0 to 6)" in note
    rows = {r[0]: r[1:] for r in table.rows}
    assert table.header == ["Term", "OR", "95% CI", "p value"]
    # every categorical variable has its reference category, just before its other levels
    names = [r[0] for r in table.rows]
    assert rows["Size: a small"] == ["1.00 (ref.)", "", ""]
    assert names.index("Size: a small") == names.index("Size: b medium") - 1
    ci = fit.conf_int()
    assert rows["Equipment share"][0] == f"{np.exp(fit.params['equip_share']):.2f}"
    assert rows["Size: c large"][1] == (f"{np.exp(ci.loc['C(size)[T.c large]'].iloc[0]):.2f}–"
                                        f"{np.exp(ci.loc['C(size)[T.c large]'].iloc[1]):.2f}")
    de = _shown(monkeypatch, pages.models_section, _rd("de"), {"m": (model, fit, fit)})
    table_de = next(o for o in de if isinstance(o, PublicationTable))
    assert " ".join(table_de.notes).startswith("n = 260 von 300 Befragten im Modell.")
    assert "Änderung von 0 auf 1" in table_de.notes[0]
    assert table_de.header[2] == "95-%-KI" and {r[0]: r for r in table_de.rows}["Size: a small"][1] \
        == "1,00 (Referenz)"
    assert {r[0]: r for r in table_de.rows}["Equipment share"][1] == \
        f"{np.exp(fit.params['equip_share']):.2f}".replace(".", ",")


def test_domain_table_has_an_n_per_group_suppressed_with_its_cells(monkeypatch):
    rng = np.random.default_rng(3)
    n = 203
    region = np.array(["north"] * 120 + ["south"] * 80 + ["island"] * 3)
    df = pd.DataFrame({"region": region, "w": rng.uniform(1, 2, n),
                       "yes_a": rng.integers(0, 2, n).astype(float),
                       "yes_b": rng.integers(0, 2, n).astype(float)})
    df.loc[:9, "yes_b"] = np.nan                       # 10 in the north did not answer b
    d = analysis.SurveyDesign(df, weights="w")
    rd = SimpleNamespace(lang="en", label=lambda v: {"yes_a": "Answer a", "yes_b": "Answer b",
                                                     "region": "Region"}.get(v, v),
                         outcomes=lambda kind: ["yes_a", "yes_b"] if kind == "share" else [],
                         domains=lambda: ["region"])
    _, by = pages.estimates(rd, d)
    shown = _shown(monkeypatch, pages.domains_section, rd, by, 5)
    table = next(o for o in shown if isinstance(o, pd.DataFrame))
    first = table.iloc[0]
    assert table.index[0] == "Respondents in the group (n)"
    # unweighted respondents per group, not the answers to one item (north answered b 110 times)
    assert first["north"] == "120"
    assert "n = 110)" in table.loc["Answer b", "north"]
    assert first["island"] == "•"                      # 3 < k: suppressed like its cells
    # and the next smallest too: island would be 203 - 120 - 80 from the published total
    assert first["south"] == "•"
    assert (table["island"] == "•").all()
    assert table.loc["Answer a", "north"].startswith(
        f"{100 * by['region'].loc[('north', 'yes_a'), 'estimate']:.1f} (")


def test_model_terms_use_the_declared_short_labels():
    import schemas

    rng = np.random.default_rng(2)
    df = pd.DataFrame({"practice_type": rng.choice(["a", "b"], 120), "w": 1.0,
                       "y": rng.integers(0, 2, 120).astype(float)})
    fit = analysis.svyglm("y ~ C(practice_type)", analysis.SurveyDesign(df, weights="w"),
                          family="quasibinomial")
    study = schemas.load_study(None)
    item = study.instrument.item("practice_type")
    rd = SimpleNamespace(lang="en", study=study, label=lambda v: "a long question text?")
    table = pages.model_table(rd, SimpleNamespace(label="M", ratio="OR"), fit)
    short = item.short_label.get("en")
    assert short and short != item.text.get("en")
    assert [r[0] for r in table.rows] == [f"{short}: a", f"{short}: b"]


def test_forest_plot_terms_use_short_labels_and_name_the_reference(monkeypatch):
    import schemas

    rng = np.random.default_rng(4)
    df = pd.DataFrame({"practice_type": rng.choice(["a", "b", "c"], 150), "w": 1.0,
                       "y": rng.integers(0, 2, 150).astype(float)})
    fit = analysis.svyglm("y ~ C(practice_type)", analysis.SurveyDesign(df, weights="w"),
                          family="quasibinomial")
    study = schemas.load_study(None)
    short = study.instrument.item("practice_type").short_label.get("en")
    rd = SimpleNamespace(lang="en", study=study, label=lambda v: "a long question text?")
    drawn = {}
    monkeypatch.setattr(pages, "_display", lambda *objs: None)
    monkeypatch.setattr(pages.plots, "forest_plot", lambda frames, **k: drawn.update(frames))
    pages.models_section(rd, {"m": (SimpleNamespace(label="M", ratio="OR"), fit, fit)})
    weighted = drawn["weighted"]
    assert weighted.index.tolist() == [f"{short}: b (vs a)", f"{short}: c (vs a)"]
    assert weighted["estimate"].tolist() == fit.params.drop("Intercept").tolist()


def test_groups_and_blocks_are_named_by_the_plan_s_labels_any_number_any_names(monkeypatch):
    """Names come from the declaration (analysis.groups/blocks.<name>.label), else the members'
    labels, else the name; nothing is looked up by a block's name in code."""
    from schemas.instrument import Label

    plan = SimpleNamespace(
        blocks={"staff": ["trained"], "kit": ["equip_share"], "habits": ["sources", "C(size)"],
                "zz_unnamed": ["nothing_known"]},
        block_labels={"staff": Label("Personal", "Staff"),
                      "kit": Label("Ausstattung", "Kit"), "habits": "Habits"},
        group_labels={"tech": Label("Technik", "Technical measures")},
        controls=[])
    rd = SimpleNamespace(lang="en", study=SimpleNamespace(analysis=plan), label=lambda v: LABELS.get(v, v),
                         term_label=lambda v: LABELS.get(v, v))
    assert pages._group_name(rd, "tech", ["trained"]) == "Technical measures"
    assert pages._group_name(rd, "other", ["trained", "sources"]) == "Trained, Sources used"
    assert pages._group_name(rd, "lonely", []) == "lonely"
    table = pd.DataFrame({"F": [3.1, 0.5, 2.0, 1.0], "df": [1, 1, 3, 1], "p": [0.08, 0.48, 0.11, 0.3],
                          "std_effect_mean_abs": [0.2, 0.05, 0.1, 0.0], "delta_d2": [0.01, 0.0, 0.02, 0.0]},
                         index=["staff", "kit", "habits", "zz_unnamed"])
    shown = _shown(monkeypatch, pages.blocks_section, rd, {"y": table})
    frame = next(o for o in shown if isinstance(o, pd.DataFrame))
    assert frame.index.tolist() == ["Staff", "Kit", "Habits", "nothing_known"]
    rd.lang = "de"
    assert pages.block_name(rd, "kit") == "Ausstattung"
    from surveydata.report import tables

    assert tables.blocks_table(table, "en").index.tolist() == ["staff", "kit", "habits", "zz_unnamed"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_an_unweighted_study_s_estimates_intro_claims_no_weights_or_design(monkeypatch, lang):
    """QA F18: the note "no design" and below it "weighted ... design-based" contradicted each other."""
    words = {"de": r"(?i)gewichtet|designbasiert", "en": r"(?i)\bweighted|design-based"}[lang]
    for weighted in (False, True):
        rd = SimpleNamespace(lang=lang, weighted=weighted)
        shown = _shown(monkeypatch, pages.header, rd, "title_estimates", "intro_estimates", [])
        intro = shown[-1].data
        assert bool(re.search(words, intro)) is weighted, intro
        srs = {"de": "einfache Zufallsstichprobe", "en": "simple random sample"}[lang]
        assert (srs in intro) is not weighted


def test_a_wide_or_long_table_is_shown_whole(monkeypatch):
    """QA F22: pandas' display truncation put a literal '...' column into the page and its CSV."""
    import IPython.display

    html = []
    monkeypatch.setattr(IPython.display, "display", lambda o: html.append(o._repr_html_()))
    wide = pd.DataFrame([[f"{i}.{j}" for j in range(45)] for i in range(90)],
                        columns=[f"group {j}" for j in range(45)])
    pages._display(wide)
    assert "..." not in html[0] and "…" not in html[0]
    assert "group 44" in html[0] and ">89.44<" in html[0]
    assert pd.get_option("display.max_columns") is not None    # only while the page shows it

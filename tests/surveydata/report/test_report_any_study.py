"""`surveydata report` for questionnaires the project has never seen (issue 11, "Must show").

An instrument written here (not in schemas/) goes through simulate -> validate -> report with
the CLI; the report is unweighted and says so on every page, in one language, without free
text. The second example study (pharmacy staff) goes codebook -> simulate -> validate -> report
in both languages (slow).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from surveydata.cli import main

ROOT = Path(__file__).resolve().parents[3]

UNSEEN = """\
instrument: {name: clinic_wellbeing, version: "0.3"}
meta: {title_de: "Wohlbefinden im Team", title_en: "Team wellbeing"}
missing_codes:
  -7: {name: not_applicable, label_de: "Trifft nicht zu", label_en: "Not applicable"}
  -8: {name: dont_know, label_de: "Weiß nicht", label_en: "Don't know"}
  -9: {name: no_answer, label_de: "Keine Angabe", label_en: "No answer"}
sections:
  A: {title_de: "Arbeit", title_en: "Work"}
  B: {title_de: "Erleben", title_en: "Experience"}
metadata:
  - {var: response_id, type: id, text_de: "Kennung", text_en: "Identifier"}
  - {var: submitted_at, type: datetime, text_de: "Zeitpunkt", text_en: "Submitted"}
  - {var: duration_s, type: number, text_de: "Dauer", text_en: "Duration", validation: {min: 0}}
scales:
  agree: &agree
    1: {label_de: "Stimme nicht zu", label_en: "Disagree"}
    2: {label_de: "Eher nicht", label_en: "Rather not"}
    3: {label_de: "Teils", label_en: "Partly"}
    4: {label_de: "Eher ja", label_en: "Rather yes"}
    5: {label_de: "Stimme zu", label_en: "Agree"}
items:
  - var: shift_type
    section: A
    type: single
    text_de: "In welcher Schicht arbeiten Sie meistens?"
    text_en: "Which shift do you mostly work?"
    missing: [-9]
    codes:
      1: {label_de: "Früh", label_en: "Early"}
      2: {label_de: "Spät", label_en: "Late"}
      3: {label_de: "Nacht", label_en: "Night"}
  - var: night_breaks
    section: A
    type: single
    text_de: "Können Sie nachts Pausen machen?"
    text_en: "Can you take breaks at night?"
    ask_if: "shift_type == 3"
    missing: [-8, -9]
    codes:
      1: {label_de: "Ja", label_en: "Yes"}
      2: {label_de: "Nein", label_en: "No"}
      -8: {label_de: "Weiß nicht", label_en: "Don't know"}
  - var: overtime_hours
    section: A
    type: integer
    text_de: "Wie viele Überstunden hatten Sie im letzten Monat?"
    text_en: "How many hours of overtime did you work last month?"
    missing: [-9]
    validation: {min: 0, max: 200}
  - var: support_sources
    section: B
    type: multi
    text_de: "Woher bekommen Sie Unterstützung?"
    text_en: "Where do you get support?"
    missing: [-9]
    codes:
      colleagues: {label_de: "Kolleginnen und Kollegen", label_en: "Colleagues"}
      manager: {label_de: "Leitung", label_en: "Manager"}
      family: {label_de: "Familie", label_en: "Family"}
      nobody: {label_de: "Von niemandem", label_en: "Nobody", exclusive: true}
  - var: feel_valued
    section: B
    type: likert5
    text_de: "Ich fühle mich wertgeschätzt."
    text_en: "I feel valued."
    missing: [-9]
    codes: *agree
  - var: remarks
    section: B
    type: text
    text_de: "Anmerkungen"
    text_en: "Remarks"
    validation: {max_length: 500}
rules:
  - id: nobody_means_no_manager
    severity: soft
    when: "support_sources__nobody == 1"
    require: "support_sources__manager == 0"
    message_de: "Niemand und Leitung zugleich angekreuzt."
    message_en: "Nobody and manager both ticked."
"""

#: Words of the generic pages that must not appear in the other edition.
ENGLISH = ("Key findings", "Data quality", "unweighted", "Records", "Item nonresponse", "answer")
GERMAN = ("Wichtigste Ergebnisse", "Datenqualität", "ungewichtet", "Datensätze", "Antwort")


def _visible(page: str) -> str:
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL | re.IGNORECASE)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def _simulate(tmp_path: Path, args: list[str], n: int = 80) -> Path:
    out = tmp_path / "sim"
    assert main(["simulate", "--seed", "7", *args, "--n", str(n), "--out", str(out)]) == 0
    return out / "export.csv"


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unseen")
    path = tmp / "clinic_wellbeing.yaml"
    path.write_text(UNSEEN, encoding="utf-8")
    return tmp, path


def test_report_of_an_instrument_the_project_has_never_seen(unseen, capsys):
    tmp, instrument = unseen
    export = _simulate(tmp, ["--instrument", str(instrument)])
    assert main(["validate", str(export), "--instrument", str(instrument), "--out",
                 str(tmp / "validated")]) in (0, 1)       # 1: rows quarantined (planted errors)
    out = tmp / "report"
    assert main(["report", "--data", str(export), "--instrument", str(instrument), "--lang", "de",
                 "--out", str(out), "--quiet"]) == 0
    pages = sorted(p.name for p in out.glob("[0-9][0-9]_*.html"))
    assert pages == ["01_data_quality.html", "03_estimates.html"]     # no design, no models
    comments = [line.split(";")[-1].strip() for line in export.read_text(encoding="cp1252").splitlines()[1:]]
    for name in pages:
        text = _visible((out / name).read_text(encoding="utf-8"))
        assert "Ungewichtet" in text, f"{name} does not say that it is unweighted"
        assert "Wichtigste Ergebnisse" in text, f"{name} states no findings"
        found = [w for w in ENGLISH if re.search(rf"\b{re.escape(w)}\b", text)]
        assert not found, f"English words in the German edition of {name}: {found}"
        assert not [c for c in comments if len(c) >= 12 and c in text], "free text published"
    estimates = _visible((out / "03_estimates.html").read_text(encoding="utf-8"))
    for label in ("Ich fühle mich wertgeschätzt.", "Woher bekommen Sie Unterstützung?",
                  "In welcher Schicht arbeiten Sie meistens?"):
        assert label in estimates, f"item {label!r} has no table"
    assert "feel_valued" not in estimates and "remarks" not in estimates    # labels, not names
    assert re.search(r"\d,\d %", estimates), "German number format"


def test_bad_report_requests_are_one_line_errors(tmp_path, unseen, capsys):
    _, instrument = unseen
    out = tmp_path / "out"
    assert main(["report", "--instrument", str(instrument), "--out", str(out)]) == 2
    assert "needs --data" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:          # argparse: mutually exclusive options
        main(["report", "--study", str(instrument), "--instrument", str(instrument),
              "--data", str(instrument), "--out", str(out)])
    assert usage.value.code == 2 and "not allowed with" in capsys.readouterr().err
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: 1\nstudy: {name: x, instrument: nowhere.yaml}\n", encoding="utf-8")
    assert main(["report", "--study", str(broken), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "broken.yaml" in err and "Traceback" not in err
    assert not out.exists()


PHARMACY_STUDY = ROOT / "schemas" / "studies" / "pharmacy_staff.yaml"


@pytest.mark.slow
@pytest.mark.skipif(not PHARMACY_STUDY.is_file(), reason="the pharmacy_staff study declaration "
                    "(schemas/studies/pharmacy_staff.yaml) is not in the repository")
def test_the_second_example_study_end_to_end_in_both_languages(tmp_path):
    study = str(PHARMACY_STUDY)
    assert main(["codebook", "--study", study, "--out", str(tmp_path / "codebook.html")]) == 0
    export = _simulate(tmp_path, ["--study", study], n=300)
    assert main(["validate", str(export), "--study", study, "--out", str(tmp_path / "v")]) in (0, 1)
    out = tmp_path / "report"
    assert main(["report", "--study", study, "--data", str(export), "--lang", "both",
                 "--out", str(out), "--quiet"]) == 0
    for lang, words, other in (("de", GERMAN, ENGLISH), ("en", ENGLISH, GERMAN)):
        pages = sorted((out / lang).glob("[0-9][0-9]_*.html"))
        assert len(pages) >= 3
        for page in pages:
            text = _visible(page.read_text(encoding="utf-8"))
            stray = [w for w in other if re.search(rf"\b{re.escape(w)}\b", text)]
            assert not stray, f"{lang} edition, {page.name}: words of the other language {stray}"


OWN = ROOT / "tests" / "data" / "own_survey"


def test_codebook_with_data_gives_the_reliability_of_an_own_questionnaires_scale(tmp_path, capsys):
    """`surveydata codebook --instrument X --data EXPORT` on a questionnaire not in schemas/: the
    grid's alpha (reverse-keyed item reversed, complete cases, unweighted) as the textbook formula
    gives it; without --data the codebook says how it will be computed; a missing export is one line."""
    import numpy as np

    import schemas
    from surveydata.report import data as reportdata

    instrument = OWN / "vet_it.yaml"
    export = _simulate(tmp_path, ["--instrument", str(instrument)], n=150)
    out = tmp_path / "codebook.md"
    assert main(["codebook", "--instrument", str(instrument), "--lang", "en", "--data", str(export),
                 "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    inst = schemas.load_instrument(instrument)
    grid = [i for i in inst.items if i.grid]
    assert grid and any(i.reverse for i in grid)
    rd = reportdata.load_data(export, instrument=instrument, lang="en")
    cols = []
    for item in grid:
        codes = list(item.substantive_codes)
        x = rd.valid[item.var].astype(object).map({item.label(c, "en"): c for c in codes}).astype(float)
        cols.append(min(codes) + max(codes) - x if item.reverse else x)
    X = np.column_stack(cols)
    X = X[~np.isnan(X).any(axis=1)]
    k = X.shape[1]
    alpha = k / (k - 1) * (1 - X.var(axis=0).sum() / X.sum(axis=1).var())
    assert f"Cronbach's alpha {alpha:.2f} (95% CI " in text
    assert f"computed on {len(X):,} respondents with every item (unweighted)" in text
    assert "(reverse-keyed)" in text
    # without data: how it will be computed, no numbers
    assert main(["codebook", "--study", str(OWN / "vet_study.yaml"), "--lang", "en",
                 "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "## Analysis variables of the study" in text and "when the codebook is built with data" in text
    assert "Cronbach's alpha 0" not in text
    capsys.readouterr()
    assert main(["codebook", "--study", str(OWN / "vet_study.yaml"), "--data", str(tmp_path / "none.csv"),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "none.csv" in err and "Traceback" not in err


def test_the_instrument_only_report_describes_date_items_to_the_month(tmp_path):
    """The own-survey fixture's date item in the unweighted descriptive page: a summary and counts
    per period, never an answer to the day."""
    import schemas

    instrument = OWN / "vet_it.yaml"
    export = _simulate(tmp_path, ["--instrument", str(instrument)], n=120)
    out = tmp_path / "report"
    assert main(["report", "--data", str(export), "--instrument", str(instrument), "--lang", "de",
                 "--out", str(out), "--quiet"]) == 0
    page = _visible((out / "03_estimates.html").read_text(encoding="utf-8"))
    (item,) = [i for i in schemas.load_instrument(instrument).items if i.type == "date"]
    assert "Datumsangaben" in page and item.text.get("de") in page
    assert "Mittlere Hälfte (25–75 %)" in page
    days = set(re.findall(r"\d{4}-\d{2}-\d{2}", export.read_text(encoding="cp1252")))
    assert days and not [d for d in days if d in page], "a date answer published to the day"

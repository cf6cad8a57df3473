"""A new researcher's first hour: their own questionnaire, through the command line only.

The fixture tests/data/own_survey/ is a questionnaire the toolkit was not written for (IT in
veterinary practices: missing codes -1/98/99, text codes N/E/S/W as a stratum, a 4-point grid
with "don't know", a multi item with an exclusive option, integers, decimals, a date, "other
(specify)", skip logic, two rules) and its study declaration (margins with source and year, a
stratified design, raking, derived variables with a scale score, outcomes, domains, a model).
The tour is the README's "Your own survey in 10 minutes": codebook -> simulate -> validate
(quarantining exactly the planted errors) -> report in both languages, the instrument-only
path (unweighted, labelled so), and the catalogue of typical mistakes, each one line naming
the file and the key, exit code 2, nothing written.

Example (what the test runs, as a researcher types it):
    surveydata codebook --study vet_study.yaml --out codebook.md
    surveydata simulate --study vet_study.yaml --seed 1 --out sim/
    surveydata validate sim/export.csv --study vet_study.yaml --out checked/
    surveydata report --data sim/export.csv --study vet_study.yaml --lang en --out rep-en/
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from pathlib import Path

import pytest

from surveydata.cli import main

FIXTURE = Path(__file__).parent / "data" / "own_survey"
GRID = ("1", "2", "3", "4")  # the substantive answers of the 4-point grid


def cli(args, capsys):
    """Run `surveydata ARGS` in-process: (exit code, stdout, stderr)."""
    try:
        rc = main([str(a) for a in args])
    except SystemExit as stop:  # argparse usage errors
        rc = stop.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    """A working directory with the researcher's two files and a simulated export."""
    d = tmp_path_factory.mktemp("own_survey")
    for name in ("vet_it.yaml", "vet_study.yaml"):
        shutil.copy(FIXTURE / name, d / name)
    rc = main(["simulate", "--study", str(d / "vet_study.yaml"), "--seed", "1", "--n", "300",
               "--out", str(d / "sim")])
    assert rc == 0
    return d


def quarantined_lines(directory: Path) -> list[int]:
    with open(directory / "quarantine.csv", encoding="utf-8-sig", newline="") as f:
        return sorted(int(row["line"]) for row in csv.DictReader(f))


def test_codebook_of_the_own_instrument(tour, capsys):
    rc, _, err = cli(["codebook", "--study", tour / "vet_study.yaml", "--out",
                        tour / "codebook.md"], capsys)
    assert rc == 0, err
    text = (tour / "codebook.md").read_text(encoding="utf-8")
    # the instrument's own missing codes, the string stratum codes, the grid's scale
    assert "| `98` | dont_know | Weiß nicht |" in text and "| `-1` | not_applicable |" in text
    assert "| `S` | Süd |" in text and "Skala `agree4`: 4 Punkte (1–4)" in text
    rc, _, err = cli(["codebook", "--study", tour / "vet_study.yaml", "--lang", "en",
                      "--out", tour / "codebook.html"], capsys)
    assert rc == 0, err
    assert '<html lang="en"' in (tour / "codebook.html").read_text(encoding="utf-8")


def test_simulated_export_obeys_the_own_missing_codes_and_skip_logic(tour):
    with open(tour / "sim" / "export.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    truth = json.loads((tour / "sim" / "truth.json").read_text(encoding="utf-8"))
    planted = {line for e in truth["planted_errors"] for line in e.get("lines", [])} | set(
        truth["quarantined_lines"])
    clean = [r for i, r in enumerate(rows, start=2) if i not in planted]
    assert len(clean) > 250
    for r in clean:  # not asked exactly when the filter is false; -7 is not this survey's code
        asked = r["backup__none"] == "0"
        assert (r["backup_offsite"] == "-1") != asked and (r["last_restore_test"] == "-1") != asked
        assert (r["downtime_days"] == "-1") == (r["incident_12m"] != "1")
        assert "-7" not in r.values()
    assert any("," in r["it_spend_pct"] for r in clean)  # decimals with a decimal comma


def test_validate_quarantines_exactly_the_planted_errors(tour, capsys):
    rc, _, err = cli(["validate", tour / "sim" / "export.csv", "--study",
                        tour / "vet_study.yaml", "--out", tour / "checked"], capsys)
    assert rc == 0, err
    truth = json.loads((tour / "sim" / "truth.json").read_text(encoding="utf-8"))
    assert quarantined_lines(tour / "checked") == sorted(truth["quarantined_lines"])
    assert {e["kind"] for e in truth["planted_errors"]} >= {"invalid_code", "skip_logic",
                                                            "bad_number"}
    report = json.loads((tour / "checked" / "report.json").read_text(encoding="utf-8"))
    assert report["n_valid"] + report["n_quarantined"] == report["n_raw"]


def test_report_data_weighted_with_the_declared_derived_variables(tour):
    from surveydata.report.data import load_data

    rd = load_data(tour / "sim" / "export.csv", study=tour / "vet_study.yaml", lang="en")
    truth = json.loads((tour / "sim" / "truth.json").read_text(encoding="utf-8"))
    assert rd.weighted and rd.n_raw == len(rd.valid) + len(truth["quarantined_lines"])
    # design weights N_h / n_h, N_h from the declared joint margin species x region
    import yaml

    decl = yaml.safe_load((tour / "vet_study.yaml").read_text(encoding="utf-8"))
    cells = {f"{a}-{b}": n for a, b, n in
             decl["population"]["margins"]["species_x_region"]["counts"]}
    v = rd.valid
    for stratum, group in v.groupby(v["stratum"].astype(str)):
        assert group["N_h"].eq(cells[stratum]).all() and group["n_h"].eq(len(group)).all()
        assert group["w"].to_numpy() == pytest.approx(cells[stratum] / len(group), rel=1e-12)
    assert rd.outcomes("share") == ["incident_yes", "offsite_backup"]
    assert rd.outcomes("mean") == ["security_score"]
    assert rd.domains() == ["species_focus", "region", "size_class"]
    # the scale score, recomputed from the raw export: mean of the four grid items with
    # view_no_time reversed (5 - x), 98 (don't know) not counted, at least 3 valid
    with open(tour / "sim" / "export.csv", encoding="utf-8", newline="") as f:
        raw = {r["response_id"]: r for r in csv.DictReader(f, delimiter=";")}
    checked = 0
    for rid, score, offsite in zip(rd.valid["response_id"], rd.derived["security_score"],
                                   rd.derived["offsite_backup"], strict=True):
        r = raw[rid]
        answers = [int(r[c]) for c in ("view_passwords", "view_updates", "view_aware")
                   if r[c] in GRID] + [5 - int(r["view_no_time"])] * (r["view_no_time"] in GRID)
        if len(answers) >= 3:
            assert score == pytest.approx(sum(answers) / len(answers)), rid
            checked += 1
        else:
            assert math.isnan(score), rid
        # no backup at all -> 0 (not off-site); asked: 1 yes, 2 no, 98 don't know -> NA
        want = {"1": 1.0, "2": 0.0}.get(r["backup_offsite"]) if r["backup__none"] == "0" else 0.0
        assert (offsite == want) if want is not None else math.isnan(offsite), rid
    assert checked > 250


@pytest.mark.slow  # two report editions and an instrument-only report: about 2 minutes
def test_report_in_both_languages_and_instrument_only(tour, capsys):
    for lang, words in (("de", ("Datenqualität", "Stichprobe und Gewichtung")),
                        ("en", ("Data quality", "Sample and weighting"))):
        out = tour / f"rep-{lang}"
        rc, _, err = cli(["report", "--data", tour / "sim" / "export.csv", "--study",
                          tour / "vet_study.yaml", "--lang", lang, "--out", out, "--quiet"],
                         capsys)
        assert rc == 0, err
        pages = sorted(p.name for p in out.glob("*.html"))
        assert {"index.html", "01_data_quality.html", "02_sample_weighting.html",
                "03_estimates.html", "04_models.html", "methods.html"} <= set(pages)
        for page in pages:
            html = (out / page).read_text(encoding="utf-8")
            assert f'<html lang="{lang}"' in html and "Traceback" not in html, page
        text = (out / "03_estimates.html").read_text(encoding="utf-8")
        assert "Cronbach" in text and all(w in (out / "index.html").read_text(encoding="utf-8")
                                          for w in words)
        assert "Traceback" not in err
    # the instrument alone: validation and an unweighted descriptive report, labelled so
    rc, _, err = cli(["report", "--data", tour / "sim" / "export.csv", "--instrument",
                      tour / "vet_it.yaml", "--lang", "en", "--out", tour / "rep-i", "--quiet"],
                     capsys)
    assert rc == 0, err
    assert not (tour / "rep-i" / "02_sample_weighting.html").exists()
    for page in ("index.html", "03_estimates.html"):
        html = (tour / "rep-i" / page).read_text(encoding="utf-8")
        assert "Unweighted: this study declares no sampling design or population" in html
    estimates = (tour / "rep-i" / "03_estimates.html").read_text(encoding="utf-8")
    assert "Everyone has a password of their own." in estimates  # every item, grid included


def test_instrument_only_validation(tour, capsys):
    rc, _, err = cli(["validate", tour / "sim" / "export.csv", "--instrument",
                        tour / "vet_it.yaml", "--out", tour / "checked-i"], capsys)
    assert rc == 0, err
    truth = json.loads((tour / "sim" / "truth.json").read_text(encoding="utf-8"))
    # validation is the instrument's business: the same planted errors, without any study
    assert quarantined_lines(tour / "checked-i") == sorted(truth["quarantined_lines"])
    from surveydata.report.data import load_data

    rd = load_data(tour / "sim" / "export.csv", instrument=tour / "vet_it.yaml", lang="de")
    assert not rd.weighted and rd.outcomes() == [] and rd.study.design is None


# ------------------------------------------------------------------- the mistakes catalogue

def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


MOVED = 'compute: {ratio: [n_vets, n_staff]}'

# name: (which file is edited, old, new, command, fragments of the one-line message)
STUDY_MISTAKES = {
    "typo in a top-level key": (
        "weighting:", "weigthing:", "validate",
        ["weigthing: unknown key; did you mean 'weighting'?"]),
    "typo in a nested key": (
        "lonely_psu: adjust", "lonley_psu: adjust", "codebook",
        ["design.lonley_psu: unknown key; did you mean 'lonely_psu'?"]),
    "derived variable names a missing item": (
        "view_aware, view_no_time]", "view_awareness, view_no_time]", "validate",
        ["derived 'security_score'", "'view_awareness'", "did you mean 'view_aware'?"]),
    "margin category that does not exist": (
        "{1: 5500, 2: 1500, 3: 800, 4: 2200}", "{1: 5500, 2: 1500, 3: 800, 5: 2200}", "report",
        ["population.margins.species_focus", "category 5", "codes: 1, 2, 3, 4"]),
    "instrument file misspelt": (
        "instrument: vet_it.yaml", "instrument: vet_itt.yaml", "validate",
        ["study.instrument", "vet_itt.yaml: instrument file not found"]),
    "formula names a misspelt variable": (
        "+ offsite_backup +", "+ offsite_bakup +", "report",
        ["analysis.models[0].formula", "did you mean 'offsite_backup'?"]),
    "derived variables in a cycle": (
        MOVED, ('compute: {ratio: [n_vets, loop_b]}\n  - var: loop_b\n'
                '    compute: {expr: "vets_share * 2"}'), "validate",
        ["cycle vets_share -> loop_b -> vets_share"]),
    "joint margin missing a cell": (
        "        - [4, W, 670]\n", "", "validate",
        ["population.margins.species_x_region: sums to 9330", "total says 10000"]),
    "a free-text item as a predictor": (
        "+ offsite_backup +", "+ comments +", "report",
        ["analysis.models[0].formula", "'comments' is free text"]),
    "a multi-choice item as a predictor": (
        "+ offsite_backup +", "+ backup +", "report",
        ["analysis.models[0].formula", "'backup' is a multi-choice item", "backup__nas"]),
    "attribute access in a formula": (
        "+ offsite_backup +", "+ security_score.real +", "report",
        ["analysis.models[0].formula", "'security_score.real' is attribute access"]),
    "a formula ending in an operator": (
        "+ C(species_focus)\"", "+ C(species_focus) +\"", "report",
        ["analysis.models[0].formula", "no trailing operator"]),
    "a date item as a domain": (
        "domains: [species_focus, region, size_class]",
        "domains: [species_focus, last_restore_test]", "report",
        ["analysis.domains[1]", "'last_restore_test' is a date item; derive"]),
    "a share of a scale score": (
        "{var: security_score, kind: mean}", "{var: security_score, kind: share}", "validate",
        ["analysis.outcomes[2].kind: share of 'security_score', which is not a 0/1 variable",
         "kind: mean"]),
    "a share of a coded item": (
        "{var: security_score, kind: mean}", "{var: species_focus, kind: share}", "validate",
        ["analysis.outcomes[2].kind: share of 'species_focus', a single item", "indicator"]),
    "a mean over a free-text item": (
        MOVED, "compute: {mean: [comments, n_vets]}", "validate",
        ["derived 'vets_share'", "'comments' is a text item, not numeric"]),
    "min_valid larger than the scale": (
        "min_valid: 3}", "min_valid: 7}", "validate",
        ["derived 'security_score'", "min_valid 7 is more than the 4 entries", "use at most 4"]),
    "a margin year that is no year": (
        "year: 2024\n      stand_in: true\n    region",
        'year: "last year"\n      stand_in: true\n    region', "validate",
        ["population.margins.species_focus.year", "'last year'"]),
    "a derived label without the study's second language": (
        'label: {de: "Anteil Tierärzte am Personal", en: "Share of vets among staff"}',
        'label: {de: "Anteil Tierärzte am Personal"}', "validate",
        ["derived[5] (vets_share).label: has no text in 'en'", 'add en: "..."']),
}


def _run_mistake(tour, tmp_path, capsys, command, study_arg, extra=()):
    out = tmp_path / "out"
    target = {"codebook": ["--out", tmp_path / "cb.md"],
              "validate": [tour / "sim" / "export.csv", "--out", out],
              "report": ["--data", tour / "sim" / "export.csv", "--out", out]}[command]
    rc, stdout, err = cli([command, *target, *study_arg, *extra], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, (stdout, err)
    assert len(lines) == 1 and lines[0].startswith(f"surveydata {command}: error: "), err
    assert "Traceback" not in err + stdout
    assert not out.exists() and not (tmp_path / "cb.md").exists()  # nothing written
    return lines[0]


@pytest.mark.parametrize("name", list(STUDY_MISTAKES))
def test_a_broken_study_is_one_line_naming_file_and_key(name, tour, tmp_path, capsys):
    old, new, command, fragments = STUDY_MISTAKES[name]
    broken = tmp_path / "study.yaml"
    shutil.copy(tour / "vet_it.yaml", tmp_path / "vet_it.yaml")
    broken.write_text(_edit((tour / "vet_study.yaml").read_text(encoding="utf-8"), old, new),
                      encoding="utf-8")
    line = _run_mistake(tour, tmp_path, capsys, command, ["--study", broken])
    assert str(broken) in line
    for fragment in fragments:
        assert fragment in line, line


def test_an_option_column_is_a_formula_term(tour):
    import schemas

    text = _edit((tour / "vet_study.yaml").read_text(encoding="utf-8"), "+ offsite_backup +",
                 "+ backup__cloud +")
    path = tour / "option_column_study.yaml"
    path.write_text(text, encoding="utf-8")
    model = schemas.load_study(path).analysis.models[0]
    assert "backup__cloud" in model.formula


def test_an_ask_if_on_a_later_item(tour, tmp_path, capsys):
    broken = tmp_path / "late.yaml"
    broken.write_text(_edit((tour / "vet_it.yaml").read_text(encoding="utf-8"),
                            'ask_if: "backup__none == 0"\n    codes:',
                            'ask_if: "incident_12m == 2"\n    codes:'), encoding="utf-8")
    line = _run_mistake(tour, tmp_path, capsys, "validate", ["--instrument", broken])
    assert re.search(rf"{re.escape(str(broken))}: item 'backup_offsite': ask_if refers to "
                     r"'incident_12m', which comes later", line), line


def test_a_range_that_contains_a_missing_code(tour, tmp_path, capsys):
    broken = tmp_path / "clash.yaml"
    broken.write_text(_edit((tour / "vet_it.yaml").read_text(encoding="utf-8"),
                            "validation: {min: 1, max: 90}", "validation: {min: 1, max: 200}"),
                      encoding="utf-8")
    line = _run_mistake(tour, tmp_path, capsys, "codebook", ["--instrument", broken])
    assert "item 'n_staff': validation range 1..200 contains the missing code 98" in line


@pytest.mark.parametrize("command", ["codebook", "validate", "report"])
def test_a_wrong_language_is_one_line(command, tour, tmp_path, capsys):
    line = _run_mistake(tour, tmp_path, capsys, command, ["--study", tour / "vet_study.yaml"],
                        ["--lang", "fr"])
    assert "--lang fr: the study has texts in de, en only; choose one of them" in line


def test_an_export_with_a_column_missing(tour, tmp_path, capsys):
    text = (tour / "sim" / "export.csv").read_bytes().decode("utf-8")
    header = text.split("\r\n", 1)[0].split(";")
    k = header.index("n_staff")
    lines = [";".join(c for i, c in enumerate(line.split(";")) if i != k) if line else line
             for line in text.split("\r\n")]
    export = tmp_path / "export.csv"
    export.write_bytes("\r\n".join(lines).encode("utf-8"))
    for command in ("validate", "report"):
        out = tmp_path / f"out-{command}"
        args = [export] if command == "validate" else ["--data", export]
        rc, _, err = cli([command, *args, "--study", tour / "vet_study.yaml",
                               "--out", out], capsys)
        assert rc == 2 and len(err.strip().splitlines()) == 1, err
        assert f"{export}, line 1, column 'n_staff': missing required column(s): n_staff" in err
        assert not out.exists()

"""The study declaration: the packaged practice study loads with what the report needs, and every
kind of mistake is a one-line StudyError naming the file, the key and the fix."""

import copy
import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import yaml

import schemas
from schemas.errors import DeclarationError
from schemas.study import StudyError, load_study

STUDY_FILE = Path(schemas.__file__).parent / "studies" / "practice_security.yaml"
BASE = yaml.safe_load(STUDY_FILE.read_text(encoding="utf-8"))
INSTRUMENT_FILE = Path(schemas.load_instrument().source)


def write(tmp_path, data, name="study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def broken(tmp_path, change) -> str:
    """Load the practice study after `change(data)`; return the StudyError message."""
    data = copy.deepcopy(BASE)
    data["study"]["instrument"] = str(INSTRUMENT_FILE)
    change(data)
    path = write(tmp_path, data)
    with pytest.raises(StudyError) as err:
        load_study(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: "), message
    return message


# --------------------------------------------------------------------------- the packaged study


def test_packaged_study_says_what_the_report_needs():
    s = load_study()
    assert (s.name, s.format, s.source, s.languages) == ("practice_security", 1, None, ("en", "de"))
    assert s.title("de").startswith("IT-Sicherheit")
    assert s.instrument.name == "practice_security" and s.simulated is False
    assert s.meta["fieldwork"] == {"start": "2023-03-01", "end": "2023-05-31", "mode": "online"}
    # population margins, each with its source
    assert int(s.population.margins["practice_type"].sum()) == s.population.total == 141655
    assert s.population.margins["federal_state"].attrs["source"]
    # the federal-state counts are a stand-in (population shares), the type x form cells published
    assert s.population.margins["federal_state"].attrs["stand_in"] is True
    assert s.population.margins["practice_type_x_form"].attrs["stand_in"] is False
    # design: strata practice type x federal state, N_h from strata.csv or the margin
    d = s.design
    assert (d.strata, d.psu, d.fpc, d.lonely_psu) == (("practice_type", "federal_state"), None,
                                                       "N_h", "adjust")
    assert (d.strata_file, d.margin) == ("strata.csv", "practice_type_x_federal_state")
    # weighting: the two raking margins, Praxisgemeinschaft (4) counted as single practice (1)
    first, second = s.weighting.rake
    assert first.variables == ("practice_type", "practice_form")
    assert dict(first.collapse["practice_form"]) == {4: 1}
    assert first.counts.equals(schemas.load_population_margins()["practice_type_x_form"])
    assert second.variables == ("federal_state",)
    assert s.weighting.trim.quantiles == (0.01, 0.99) and s.weighting.trim.strict
    # analysis plan (what reportdata hard-coded before)
    a = s.analysis
    assert [m.name for m in a.models] == ["incident", "measures", "implementation"]
    assert a.model("measures").offset == "log_n_applicable"
    assert a.model("implementation").family == "ordinal"
    assert a.blocks["equipment"] == ("tech_share", "C(it_support_model)", "unsupported_os_yes")
    assert a.controls == ("C(kbv_size_class)", "C(practice_type)")
    assert len(a.groups["technical"]) == 12 and a.groups["incidents"] == ("incident_12m_yes",
                                                                          "incident_ever_yes")
    assert a.published["incident_ever_yes"].value == 0.10
    assert a.published["guideline_full"].value == pytest.approx(1 / 3)
    assert a.domains == ("practice_type", "kbv_size_class")
    assert s.disclosure.min_cell == 5 and s.disclosure.protection == (0.3, 0.3)
    assert s.report.extra_pages == ("05_information_vs_equipment.ipynb",)
    assert s.fieldwork.targets["by"] == "practice_type"
    # derived: the instrument's first, then the study's
    origins = [d.origin for d in s.derived]
    assert origins == sorted(origins)  # "instrument" < "study"
    assert s.derived_variable("guideline_full").label.en == "Guideline fully implemented"


def test_study_is_frozen():
    s = load_study()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.name = "x"
    with pytest.raises(TypeError):
        s.analysis.blocks["x"] = ("a",)


def test_instrument_alone_is_an_unweighted_study(tmp_path):
    s = load_study(INSTRUMENT_FILE)
    assert s.population is None and s.design is None and s.weighting is None
    assert not s.weighted and s.analysis.models == ()
    assert [d.var for d in s.derived][:2] == ["kbv_size_class", "tech_index"]
    assert load_study(schemas.load_instrument()).name == "practice_security"


def test_minimal_study_needs_only_format_and_study(tmp_path):
    path = write(tmp_path, {"format": 1, "study": {"name": "mini", "title": "Mini",
                                                   "instrument": "practice_security"}})
    s = load_study(path)
    assert s.title("en") == s.title("de") == "Mini" and s.design is None
    assert s.source == path


def test_relative_instrument_path_is_relative_to_the_study(tmp_path):
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "own.yaml").write_text(INSTRUMENT_FILE.read_text(encoding="utf-8"),
                                             encoding="utf-8")
    path = write(tmp_path, {"format": 1, "study": {"name": "rel", "title": "T",
                                                   "instrument": "q/own.yaml"}})
    assert load_study(path).instrument.source == str(tmp_path / "q" / "own.yaml")


def test_inline_margins_with_stand_in_flag(tmp_path):
    data = {"format": 1,
            "study": {"name": "inline", "title": "T", "instrument": str(INSTRUMENT_FILE)},
            "population": {"total": 100, "margins": {
                "practice_type": {"variables": ["practice_type"], "source": "invented",
                                  "year": 2025, "stand_in": True,
                                  "counts": {1: 40, 2: 30, 3: 10, 4: 10, 5: 10}}}},
            "design": {"strata": ["practice_type"], "stratum_sizes": {"margin": "practice_type"}},
            "weighting": {"poststratify": {"margin": "practice_type"}}}
    s = load_study(write(tmp_path, data))
    m = s.population.margins["practice_type"]
    assert m.attrs["stand_in"] is True and m.attrs["source"] == "invented"
    assert m.index.name == "practice_type" and int(m.sum()) == 100
    assert s.weighting.poststratify.variables == ("practice_type",) and s.weighting.rake == ()


# --------------------------------------------------------------------------- mistakes


@pytest.mark.parametrize("change, expected", [
    (lambda d: d.update(colour="red"), "colour: unknown key"),
    (lambda d: d["study"].update(titel="x"), "study.titel: unknown key; did you mean 'title'?"),
    (lambda d: d.update(format=7), "format: unknown declaration format 7"),
    (lambda d: d["study"].update(languages="en"), "study.languages: must be a list of names"),
    (lambda d: d["study"].update(languages=["en", "fr"]),
     "study.languages[1]: 'fr' is not a language"),
    (lambda d: d["study"].update(title={"en": "only English"}),
     "study.title: has no text in 'de'"),
    (lambda d: d["study"].update(simulated="yes"), "study.simulated: must be true or false"),
    (lambda d: d["study"].update(instrument="no_such_instrument"),
     "study.instrument: no packaged instrument named 'no_such_instrument'"),
    (lambda d: d["study"].update(fieldwork={"start": "2023-06-01", "end": "2023-05-01"}),
     "study.fieldwork: starts (2023-06-01) after it ends (2023-05-01)"),
    (lambda d: d["population"].update(total=5), "population.margins.practice_type_x_form: sums to"),
    (lambda d: d["population"].update(margins="nowhere"), "population.margins: no margins file"),
    (lambda d: d["design"].update(strata=["practice_type", "federal_stat"]),
     ("design.strata[1]: 'federal_stat' is not an item of instrument 'practice_security' "
     "(did you mean 'federal_state'?)")),
    (lambda d: d["design"].update(strata=["info_sources"]), "'info_sources' is a multi item"),
    (lambda d: d["design"].update(lonely_psu="ignore"), "design.lonely_psu: must be one of"),
    (lambda d: d["design"]["stratum_sizes"].update(margin="federal_state"),
     "margin 'federal_state' is by federal_state, the strata are by practice_type, federal_state"),
    (lambda d: d["weighting"]["rake"][0].update(margin="practice_kind"),
     "weighting.rake[0].margin: no population margin 'practice_kind'"),
    (lambda d: d["weighting"]["rake"][0].update(variables=["practice_form", "practice_type"]),
     "weighting.rake[0].variables: margin 'practice_type_x_form' is by practice_type, practice_form"),
    (lambda d: d["weighting"]["rake"][0].update(collapse={}),
     ("answer 4 of 'practice_form' has no category in margin 'practice_type_x_form'; add it, or map "
     "it with collapse")),
    (lambda d: d["weighting"]["rake"][0].update(collapse={"practice_form": {9: 1}}),
     "weighting.rake[0].collapse.practice_form: 9 is not a code of 'practice_form'"),
    (lambda d: d["weighting"]["rake"][0].update(collapse={"practice_form": {4: 7}}),
     "7 is not a category of margin 'practice_type_x_form'"),
    (lambda d: d["weighting"].update(trim={"quantiles": [0.99, 0.01]}),
     "weighting.trim.quantiles: lower 0.99 must be below upper 0.01"),
    (lambda d: d.pop("design"), "weighting: needs a design"),
    (lambda d: d["derived"].append({"var": "x_full", "compute": {"indicator": "tm_antivirs",
                                                                 "codes": [1]}}),
     ("derived 'x_full': compute.indicator: indicator names 'tm_antivirs', which is not an item, "
     "option column or derived variable of instrument 'practice_security' (did you mean "
     "'tm_antivirus'?)")),
    (lambda d: d["derived"].extend([{"var": "a", "compute": {"expr": "b + 1"}},
                                    {"var": "b", "compute": {"expr": "c * 2"}},
                                    {"var": "c", "compute": {"expr": "a - 1"}}]),
     "derived variables form a cycle a -> b -> c -> a"),
    (lambda d: d["derived"].append({"var": "a", "compute": {"expr": "a + 1"}}), "reads itself"),
    (lambda d: d["derived"].append({"var": "guideline_full", "compute": {"expr": "1"}}),
     "'guideline_full' is declared twice"),
    (lambda d: d["derived"].append({"var": "a", "compute": {"average": ["x"]}}),
     "compute names no computation: 'average'"),
    (lambda d: d["derived"].append({"var": "a", "compute": {"mean": ["info_sufficient"],
                                                            "min_valids": 1}}),
     "compute.mean: unknown option 'min_valids' (options of mean: min_valid, reverse)"),
    (lambda d: d["derived"].append({"var": "a", "compute": {"indicator": "training_12m",
                                                            "codes": [7]}}),
     "7 is not a code of 'training_12m'"),
    (lambda d: d["derived"].append({"var": "a", "colour": 1, "compute": {"expr": "1"}}),
     "derived 'a': unknown key 'colour'"),
    (lambda d: d["derived"].append({"var": "a", "compute": {"expr": "(" * 5000 + "x" + ")" * 5000}}),
     "nested deeper than 100 levels"),
    (lambda d: d["derived"].append({"var": "a", "compute": {"indicator": "not " * 5000 + "x == 1"}}),
     "nested deeper than 100 levels"),
    (lambda d: d["derived"].append({"var": "a", "compute": {"expr": "__import__('os')"}}),
     "names starting with '_' are not allowed"),
    (lambda d: d["analysis"]["models"][0].update(formula="incident_12m_yes ~ tranining_all"),
     ("analysis.models[0].formula: formula names 'tranining_all', which is neither an item nor a "
     "derived variable; did you mean 'training_all'?")),
    (lambda d: d["analysis"]["models"][0].update(formula="incident_12m_yes + training_all"),
     "must be 'response ~ predictors'"),
    (lambda d: d["analysis"]["models"][0].update(formula="y ~ x.__class__"), "not a plain formula"),
    (lambda d: d["analysis"]["models"][0].update(family="binomal"), "unknown family 'binomal'"),
    (lambda d: d["analysis"]["models"].append(dict(d["analysis"]["models"][0])),
     "model 'incident' is declared twice"),
    (lambda d: d["analysis"].update(domains=["practice_type", "size_class"]),
     "analysis.domains[1]: 'size_class' is neither an item nor a derived variable"),
    (lambda d: d["analysis"]["outcomes"].append({"var": "incidents", "kind": "share"}),
     "analysis.outcomes[9].var: 'incidents' is neither an item nor a derived variable"),
    (lambda d: d["analysis"]["outcomes"].append({"var": "tech_share", "kind": "median"}),
     "analysis.outcomes[9].kind: must be one of share, mean"),
    (lambda d: d["analysis"]["blocks"].update(extra=["C(no_such)"]),
     "analysis.blocks.extra[0]: formula names 'no_such'"),
    (lambda d: d["analysis"]["groups"].update(extra={"label": "Extra", "vars": ["training_all"]}),
     "analysis.groups.extra.vars: unknown key; did you mean 'variables'?"),
    (lambda d: d["analysis"]["groups"].update(extra={"label": "Extra"}),
     "analysis.groups.extra.variables: is required"),
    (lambda d: d["analysis"]["blocks"].update(extra={"label": {"fr": "x"}, "terms": ["training_all"]}),
     "analysis.blocks.extra.label"),
    (lambda d: d["analysis"]["published"].update(guideline_full={"value": "a third", "source": "x"}),
     "analysis.published.guideline_full.value: must be a number"),
    (lambda d: d["disclosure"].update(min_cell=0), "disclosure.min_cell: must be a whole number >= 1"),
    (lambda d: d["disclosure"].update(protection={"lower": 2}),
     "disclosure.protection.lower: must be a number from 0.0 to 1.0"),
    (lambda d: d["report"].update(extra_pages=["../x.ipynb"]), "must be a notebook file name"),
    (lambda d: d["fieldwork"]["targets"].update(by="practice"), "fieldwork.targets.by: 'practice'"),
    (lambda d: d.update(analysis=["x"]), "analysis: must be a mapping"),
])
def test_mistakes_are_one_line_naming_file_key_and_fix(tmp_path, change, expected):
    assert expected in broken(tmp_path, change)


def test_inline_margin_mistakes(tmp_path):
    def study(margin):
        return {"format": 1, "study": {"name": "m", "title": "T", "instrument": str(INSTRUMENT_FILE)},
                "population": {"margins": {"m": margin}}}
    cases = [
        ({"variables": ["practice_type"], "counts": {1: 5, 9: 5}, "source": "s", "year": 2024},
         "population.margins.m: margin 'm' has category 9 of 'practice_type', which is not a code"),
        ({"variables": ["practice_kind"], "counts": {1: 5}, "source": "s", "year": 2024},
         "'practice_kind' is not an item of instrument"),
        ({"variables": ["practice_type"], "counts": {1: 5}, "year": 2024},
         "population.margins.m.source: is required"),
        ({"variables": ["practice_type", "federal_state"], "counts": [[1, "BY"]], "source": "s",
          "year": 2024}, "population.margins.m.counts[0]: must be [practice_type, federal_state, count]"),
        ({"variables": ["practice_type"], "counts": {1: -5}, "source": "s", "year": 2024},
         "count of [1] must be a number >= 0"),
    ]
    for margin, expected in cases:
        path = write(tmp_path, study(margin))
        with pytest.raises(StudyError, match=None) as err:
            load_study(path)
        assert expected in str(err.value), str(err.value)


def test_file_problems(tmp_path):
    with pytest.raises(StudyError, match="study file not found"):
        load_study(tmp_path / "none.yaml")
    with pytest.raises(StudyError, match="is a folder"):
        load_study(tmp_path)
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(StudyError, match="neither a study declaration"):
        load_study(tmp_path / "list.yaml")
    (tmp_path / "bad.yaml").write_text("format: 1\nstudy: {name: x\n")
    with pytest.raises(DeclarationError, match="bad.yaml"):
        load_study(tmp_path / "bad.yaml")


def test_study_derive_adds_the_study_variables_to_the_instrument_ones():
    raw = pd.DataFrame({"guideline_implementation": [1, 4, -8, -7]})
    s = load_study()
    out = schemas.derive(raw, s, variables=["guideline_full", "guideline_implementation_up"])
    assert out["guideline_full"].tolist()[:2] == [1.0, 0.0] and out["guideline_full"].isna().sum() == 2
    assert out["guideline_implementation_up"].tolist()[:2] == [4, 1]


def test_formula_functions_and_their_arguments_are_not_variables(tmp_path):
    data = copy.deepcopy(BASE)
    data["study"]["instrument"] = str(INSTRUMENT_FILE)
    data["analysis"]["models"][0]["formula"] = (
        "incident_12m_yes ~ C(practice_type, Treatment(reference=2)) + np.log(tech_index + 1)"
        " + I(tech_share ** 2) + training_all:it_responsible + C(federal_state, Treatment('BY'))")
    model = load_study(write(tmp_path, data)).analysis.models[0]
    assert model.response == "incident_12m_yes" and "Treatment(reference=2)" in model.formula


def test_groups_and_blocks_carry_their_headings_or_none(tmp_path):
    plan = load_study().analysis
    assert plan.group_labels["technical"].get("en") == "Technical measures"
    assert plan.block_labels["information"].get("de") == "Information und Organisation"
    assert plan.groups["incidents"] == ("incident_12m_yes", "incident_ever_yes")
    data = copy.deepcopy(BASE)
    data["study"]["instrument"] = str(INSTRUMENT_FILE)
    data["analysis"]["groups"]["plain"] = ["training_all", "it_responsible"]   # a plain list: no heading
    plan = load_study(write(tmp_path, data)).analysis
    assert plan.groups["plain"] == ("training_all", "it_responsible") and "plain" not in plan.group_labels

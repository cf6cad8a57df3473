"""The study declaration's analysis.imputation: what is imputed, from what, how often, seeded."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

import schemas
from schemas.study import ImputationSpec, StudyError, load_study

STUDY_FILE = Path(schemas.__file__).parent / "studies" / "practice_security.yaml"
BASE = yaml.safe_load(STUDY_FILE.read_text(encoding="utf-8"))
INSTRUMENT_FILE = Path(schemas.load_instrument().source)


def _load(tmp_path, imputation):
    data = copy.deepcopy(BASE)
    data["study"]["instrument"] = str(INSTRUMENT_FILE)
    if imputation is None:
        data["analysis"].pop("imputation", None)
    else:
        data["analysis"]["imputation"] = imputation
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, load_study(path)


def _error(tmp_path, imputation) -> str:
    with pytest.raises(StudyError) as err:
        _load(tmp_path, imputation)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(tmp_path)), message
    return message


def test_packaged_study_imputes_the_guideline_dont_know_answers():
    spec = load_study().analysis.imputation
    assert isinstance(spec, ImputationSpec)
    assert "guideline_full" in spec.variables
    assert spec.missing == ("dont_know", "no_answer")
    assert spec.m == 20 and isinstance(spec.seed, int)
    assert spec.predictors and not set(spec.predictors) & set(spec.variables)


def test_defaults_and_absence(tmp_path):
    _, study = _load(tmp_path, None)
    assert study.analysis.imputation is None
    _, study = _load(tmp_path, {"variables": ["incident_12m_yes"]})
    assert study.analysis.imputation == ImputationSpec(("incident_12m_yes",), (),
                                                       ("dont_know", "no_answer"), 20, 1)
    _, study = _load(tmp_path, {"variables": ["guideline_full"], "predictors": ["tech_share"],
                                "missing": ["dont_know"], "m": 5, "seed": 7})
    assert study.analysis.imputation == ImputationSpec(("guideline_full",), ("tech_share",),
                                                       ("dont_know",), 5, 7)


@pytest.mark.parametrize("imputation, expected", [
    ({"variables": ["guideline_ful"]},
     ("analysis.imputation.variables[0]: 'guideline_ful' is neither an item nor a derived "
      "variable; did you mean 'guideline_full'?")),
    ({"variables": ["guideline_full"], "predictors": ["no_such_var"]},
     "analysis.imputation.predictors[0]: 'no_such_var' is neither an item nor a derived variable"),
    ({"variables": ["guideline_full"], "predictors": ["guideline_full"]},
     "analysis.imputation.predictors[0]: 'guideline_full' is imputed"),
    ({"variables": ["guideline_full"], "missing": ["not_applicable"]},
     "analysis.imputation.missing[0]: must be one of dont_know, no_answer"),
    ({"variables": ["guideline_full"], "m": 1},
     "analysis.imputation.m: must be a whole number >= 2, got 1"),
    ({"variables": ["guideline_full"], "seed": "abc"},
     "analysis.imputation.seed: must be a whole number >= 0"),
    ({"variables": ["guideline_full"], "seeds": 3},
     "analysis.imputation.seeds: unknown key; did you mean 'seed'?"),
    ({"predictors": ["tech_share"]}, "analysis.imputation.variables: is required"),
    ({"variables": "guideline_full"}, "analysis.imputation.variables: must be a list of names"),
    ({"variables": ["guideline_full"], "models": ["incidents"]},
     ("analysis.imputation.models[0]: 'incidents' is not a model of analysis.models; did you "
      "mean 'incident'?")),
    ({"variables": ["guideline_full"], "models": "incident"},
     "analysis.imputation.models: must be a list of names"),
])
def test_mistakes_are_one_line_errors_naming_the_key(tmp_path, imputation, expected):
    assert expected in _error(tmp_path, imputation)


def test_models_fitted_on_imputed_data_are_named_planned_models(tmp_path):
    spec = load_study().analysis.imputation
    planned = {m.name for m in load_study().analysis.models}
    assert spec.models and set(spec.models) <= planned
    _, study = _load(tmp_path, {"variables": ["guideline_full"]})
    assert study.analysis.imputation.models == ()                 # default: no model
    _, study = _load(tmp_path, {"variables": ["guideline_full"], "models": ["implementation"]})
    assert study.analysis.imputation.models == ("implementation",)

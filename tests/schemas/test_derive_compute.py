"""Each registered computation of `compute:` on small frames, values worked out by hand; the
arithmetic expression language; and the mistakes that only show at run time."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas
from schemas.derived import REGISTRY, DerivedError, compile_entries, derive
from schemas.expressions import ExpressionError, parse_expression

INST = schemas.load_instrument()


def run(frame, *entries, lang=None):
    variables = compile_entries(list(entries), INST)
    return derive(frame, (INST, variables), lang=lang)


def test_registry_is_what_the_docstring_lists():
    assert set(REGISTRY) == {"indicator", "count", "count_valid", "n_ticked", "sum", "mean",
                             "reverse", "recode", "bins", "cases", "zmean", "ratio", "expr"}
    for name in REGISTRY:
        assert f"    {name}" in schemas.derived.__doc__ or f"| {name}" in schemas.derived.__doc__


def test_indicator_of_codes_and_of_a_condition():
    f = pd.DataFrame({"training_12m": [1, 2, 3, -8, -9, -7],
                      "n_physicians": [1, 5, -9, 2, 3, 4]})
    out = run(f, {"var": "a", "compute": {"indicator": "training_12m", "codes": [1, 2]}},
              {"var": "b", "compute": {"indicator": "n_physicians > 2 and training_12m == 1"}})
    assert out["a"].tolist()[:3] == [1.0, 1.0, 0.0] and out["a"].iloc[3:].isna().all()
    # NA where an item of the condition is a missing code, else 1/0
    assert out["b"].tolist()[:2] == [0.0, 0.0] and out["b"].iloc[2:5].isna().all()
    assert out["b"].iloc[5] != out["b"].iloc[5]  # -7 is a missing code too


def test_count_with_min_valid_and_count_valid():
    f = pd.DataFrame({"tm_mfa": [1, 1, -9, -8], "tm_firewall": [1, 3, -9, 1],
                      "tm_antivirus": [2, -7, -9, 1]})
    items = ["tm_mfa", "tm_firewall", "tm_antivirus"]
    out = run(f, {"var": "n1", "compute": {"count": items, "codes": [1], "min_valid": 2}},
              {"var": "nv", "compute": {"count_valid": items, "invalid": [-7, -9]}},
              {"var": "all", "compute": {"count": items, "codes": [1], "min_valid": "all"}})
    # default invalid = every missing code: row 0 3 valid, row 1 2 valid, row 2 0, row 3 2 (-8)
    assert out["n1"].tolist() == [2, 1, pd.NA, 2]
    # -8 counts as valid when only -7/-9 are invalid
    assert out["nv"].tolist() == [3, 2, pd.NA, 3]
    assert out["all"].tolist() == [2, pd.NA, pd.NA, pd.NA]


def test_sum_and_mean_with_reverse_and_min_valid():
    f = pd.DataFrame({"info_sufficient": [1, 5, 2, -9], "self_competence": [2, 4, -9, -9],
                      "guideline_understandable": [5, 1, 3, 4]})
    items = ["info_sufficient", "self_competence", "guideline_understandable"]
    out = run(f, {"var": "m", "compute": {"mean": items, "reverse": ["guideline_understandable"],
                                          "min_valid": 2}},
              {"var": "s", "compute": {"sum": items}})
    # reversed on 1..5: 6 - x
    np.testing.assert_allclose(out["m"].iloc[:3], [(1 + 2 + 1) / 3, (5 + 4 + 5) / 3, (2 + 3) / 2])
    assert math.isnan(out["m"].iloc[3])
    assert out["s"].tolist()[:2] == [8.0, 10.0] and out["s"].iloc[2:].isna().all()  # min_valid all


def test_reverse_recode_bins_cases():
    f = pd.DataFrame({"guideline_awareness": [1, 3, -9], "federal_state": ["SN", "HH", "BE"],
                      "n_persons_data": [1, 6, 1000]})
    out = run(f, {"var": "rev", "compute": {"reverse": "guideline_awareness"}},
              {"var": "rec", "compute": {"recode": "federal_state", "map": {"SN": "east"},
                                         "other": "keep"}},
              {"var": "b", "codes": {1: "small", 2: "medium", 3: "large"},
               "compute": {"bins": "n_persons_data", "breaks": [1, 6, 21, 1001]}},
              {"var": "br", "compute": {"bins": "n_persons_data", "breaks": [1, 6, 21], "right": True}},
              {"var": "c", "compute": {"cases": [{"when": "n_persons_data > 5", "value": "big"},
                                                 {"when": "federal_state == 'SN'", "value": "sn"}]}},
              lang="en")
    codes = run(f, {"var": "rev", "compute": {"reverse": "guideline_awareness"}})["rev"]
    assert codes.tolist()[:2] == [3, 1] and codes.isna().iloc[2]
    # labels travel with the codes: 3 is now "well known", and categories run the other way
    assert out["rev"].cat.ordered and out["rev"].iloc[0].startswith("Well")
    assert out["rev"].cat.categories[0] == "Not known"
    assert list(out["rec"]) == ["east", "HH", "BE"]
    assert list(out["b"]) == ["small", "medium", "large"] and not out["b"].cat.ordered
    assert out["br"].tolist() == [pd.NA, 1, pd.NA]  # (1, 6], (6, 21]: 1 and 1000 outside
    assert list(out["c"].astype(object).where(out["c"].notna(), None)) == ["sn", "big", "big"]


def test_ratio_expr_zmean():
    f = pd.DataFrame({"n_physicians": [2, 3, 4, -9], "n_persons_data": [4, 0, 8, 5]})
    out = run(f, {"var": "r", "compute": {"ratio": ["n_physicians", "n_persons_data"]}},
              {"var": "e", "compute": {"expr": "max(n_physicians, 3) * 2 - log(n_persons_data)"}},
              {"var": "z", "compute": {"zmean": ["n_physicians", "n_physicians * 2"]}})
    assert out["r"].iloc[0] == 0.5 and out["r"].iloc[1:2].isna().all() and out["r"].iloc[2] == 0.5
    assert out["e"].iloc[0] == pytest.approx(6 - math.log(4))
    assert math.isnan(out["e"].iloc[1])  # log(0) is undefined
    # both components standardise to the same z: 2, 3, 4 -> -1, 0, 1
    np.testing.assert_allclose(out["z"].iloc[:3], [-1.0, 0.0, 1.0])
    assert math.isnan(out["z"].iloc[3])


def test_n_ticked_needs_an_answered_item():
    cols = INST.multi_columns("info_sources")
    f = pd.DataFrame([[1, 1] + [0] * 8, [0] * 9 + [1], [-9] * 10], columns=cols)
    out = run(f, {"var": "n", "compute": {"n_ticked": "info_sources", "except": ["none"]}},
              {"var": "m", "compute": {"n_ticked": "info_sources"}})
    assert out["n"].tolist() == [2, 0, pd.NA] and out["m"].tolist() == [2, 1, pd.NA]


def test_run_time_mistakes_are_declaration_errors():
    f = pd.DataFrame({"federal_state": ["SN"], "n_physicians": [3]})
    # arithmetic on a text-coded item is refused when the declaration is compiled
    with pytest.raises(DerivedError, match="'federal_state' is an item with text codes, not numeric"):
        run(f, {"var": "x", "compute": {"expr": "federal_state + 1"}})
    with pytest.raises(DerivedError, match="declared integer but computes 1.5, not a whole number"):
        run(f, {"var": "x", "type": "integer", "compute": {"expr": "n_physicians / 2"}})
    with pytest.raises(DerivedError, match="need column 'training_12m', which the data do not have"):
        run(f, {"var": "x", "compute": {"indicator": "training_12m", "codes": [1]}})
    with pytest.raises(DerivedError, match="'nope' is not a computed derived variable"):
        derive(f, INST, variables=["nope"])
    with pytest.raises(TypeError, match="needs an Instrument or a Study"):
        derive(f, "practice_security")


@pytest.mark.parametrize("entry, message", [
    ({"var": "x", "compute": {"n_ticked": "training_12m"}},
     "'training_12m' is an item with one answer, not a multi-choice item"),
    ({"var": "x", "compute": {"expr": "info_sources + 1"}}, "'info_sources' is a multi-choice item"),
    ({"var": "x", "compute": {"n_ticked": "info_sources", "except": ["nobody"]}},
     "except names option(s) ['nobody']"),
    ({"var": "x", "compute": {"bins": "n_physicians", "breaks": [5, 1]}},
     "breaks must be at least two increasing numbers"),
    ({"var": "x", "compute": {"count": ["training_12m"]}}, "count over items needs codes"),
    ({"var": "x", "compute": {"reverse": "federal_state"}}, "cannot be reversed"),
    ({"var": "x", "compute": {"cases": [{"when": "x ==", "value": 1}]}}, "cannot parse condition"),
    ({"var": "x", "compute": {"ratio": ["n_physicians"]}}, "ratio must be [numerator, denominator]"),
    ({"var": "x", "compute": {"indicator": "training_12m", "expr": "1"}},
     "compute names several computations"),
    ({"var": "x", "compute": "expr: 1"}, "compute must be a mapping"),
    ({"var": "x__y", "compute": {"expr": "1"}}, "is not a valid variable name"),
    ({"var": "x", "type": 3, "compute": {"expr": "1"}}, "type must be a text"),
])
def test_compile_mistakes(entry, message):
    with pytest.raises(DerivedError) as err:
        compile_entries([entry], INST, where="f.yaml: derived")
    assert message in str(err.value) and str(err.value).startswith("f.yaml: derived")


def test_expressions():
    values = {"a": np.array([1.0, 4.0, np.nan]), "b": np.array([2.0, 0.0, 1.0])}.__getitem__
    assert parse_expression("a / b").evaluate(values).tolist()[:1] == [0.5]
    assert np.isnan(parse_expression("a / b").evaluate(values)[1:]).all()
    assert parse_expression("-a + 2 * (b - 1)").evaluate(values).tolist()[:2] == [1.0, -6.0]
    assert parse_expression("sqrt(a) + abs(0 - b)").evaluate(values).tolist()[:2] == [3.0, 2.0]
    assert parse_expression("min(a, b)").variables == ("a", "b")
    assert parse_expression("2.5 * 2").evaluate(values, n=2).tolist() == [5.0, 5.0]
    for text, problem in [("a +", "expected a number"), ("a b", "unexpected 'b'"),
                          ("log(a, b)", "log() takes 1 argument(s), got 2"),
                          ("system(a)", "unknown function 'system'"),
                          ("a.real", "attribute access"), ("_a", "names starting with '_'"),
                          ("a == 1", "comparisons belong in a condition"),
                          ("log", "log is a function"),
                          ("+".join(["a"] * 1000), "more than 400 operations deep"),
                          ("-" * 5000 + "a", "nested deeper than 100 levels"),
                          ("(" * 5000 + "a" + ")" * 5000, "nested deeper than 100 levels"),
                          ("abs(" * 5000 + "a" + ")" * 5000, "nested deeper than 100 levels")]:
        with pytest.raises(ExpressionError, match=None) as err:
            parse_expression(text)
        assert problem in str(err.value) and len(str(err.value)) < 300, str(err.value)


def test_frame_dependent_variables_are_flagged():
    flagged = [d.var for d in schemas.load_study().derived if d.frame_dependent]
    assert flagged == ["info_index"]  # its z-scores use the whole frame's mean and sd


LIKERT = ["info_sufficient", "self_competence", "guideline_understandable", "general_risk_high",
          "own_risk_high"]
CELL = st.sampled_from([1, 2, 3, 4, 5, -7, -8, -9, None])


@settings(max_examples=40, deadline=None, database=None)
@given(rows=st.lists(st.lists(CELL, min_size=5, max_size=5), min_size=1, max_size=15),
       k=st.integers(1, 5), min_valid=st.integers(0, 6), codes=st.sets(st.integers(1, 5), min_size=1))
def test_counts_sums_and_means_match_a_row_by_row_oracle(rows, k, min_valid, codes):
    items = LIKERT[:k]
    frame = pd.DataFrame([r[:k] for r in rows], columns=items).astype("Int64")
    if min_valid > k:  # always missing: refused when declared
        with pytest.raises(DerivedError, match=f"min_valid {min_valid} is more than the {k} entries"):
            run(frame, {"var": "s", "compute": {"sum": items, "min_valid": min_valid}})
        return
    out = run(frame,
              {"var": "n", "compute": {"count": items, "codes": sorted(codes), "min_valid": min_valid}},
              {"var": "nv", "compute": {"count_valid": items, "min_valid": min_valid}},
              {"var": "s", "compute": {"sum": items, "min_valid": min_valid}},
              {"var": "m", "compute": {"mean": items, "min_valid": min_valid,
                                       "reverse": [items[0]]}})
    for i, row in enumerate(rows):
        answers = [v for v in row[:k] if v is not None and v > 0]  # -7/-8/-9 and empty: missing
        enough = len(answers) >= min_valid
        assert out["nv"].iloc[i] is pd.NA if not enough else out["nv"].iloc[i] == len(answers)
        hits = sum(v in codes for v in answers)
        assert out["n"].iloc[i] is pd.NA if not enough else out["n"].iloc[i] == hits
        defined = enough and answers  # sum and mean need at least one answer
        assert math.isnan(out["s"].iloc[i]) if not defined else out["s"].iloc[i] == sum(answers)
        first = row[0] if row[0] is not None and row[0] > 0 else None
        keyed = ([6 - first] if first is not None else []) + [
            v for v in row[1:k] if v is not None and v > 0]
        if not defined:
            assert math.isnan(out["m"].iloc[i])
        else:
            assert out["m"].iloc[i] == pytest.approx(sum(keyed) / len(keyed), rel=1e-12)

"""Random valid instruments (issue 11, "Must show"): a hypothesis strategy over the format (format 1
and 2, item types, scales and grids, skip logic, missing-code sets, required items, priors, a hard
rule) generates instruments; each goes through simulate -> export file -> read_export -> validate
without an exception, and validation quarantines exactly the planted errors (by export line).

The normal suite runs a few derandomised examples; `-m slow` runs many random ones.
"""
from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas
from surveydata import read_export
from surveydata.simulate.generic import simulate_responses
from surveydata.validate import validate

MISSING_SETS = [  # (not_applicable, no_answer, dont_know, refused)
    (-7, -9, -8, None),
    (97, 99, 98, None),
    (-1, -2, -3, -4),
    (997, 999, None, None),
]
LABEL = {"label_de": "x", "label_en": "x"}


def _label(text: str) -> dict:
    return {"label_de": f"{text} (de)", "label_en": f"{text} (en)"}


def _text(text: str) -> dict:
    return {"text_de": f"{text}?", "text_en": f"{text}?"}


@st.composite
def instruments(draw) -> str:
    """YAML text of a random valid instrument."""
    fmt = draw(st.sampled_from([1, 2]))
    na, no_answer, dk, refused = MISSING_SETS[0] if fmt == 1 else draw(st.sampled_from(MISSING_SETS))
    doc: dict = {"instrument": {"name": "random", "version": "1"},
                 "meta": {"title_de": "Zufall", "title_en": "Random"}}
    if fmt == 2:
        doc["format"] = 2
    names = {na: "not_applicable", no_answer: "no_answer", dk: "dont_know", refused: "refused"}
    doc["missing_codes"] = {c: {"name": n, **_label(n)} for c, n in names.items() if c is not None}
    doc["sections"] = {"A": {"title_de": "A", "title_en": "A"}}
    doc["metadata"] = [
        {"var": "response_id", "type": "id", **{k.replace("text", "text"): v for k, v in _text("id").items()}},
        {"var": "submitted_at", "type": "datetime", **_text("submitted")},
        {"var": "duration_s", "type": "number", **_text("duration"), "validation": {"min": 0}},
    ]
    scales = {}
    if fmt == 2 and draw(st.booleans()):
        points = draw(st.integers(2, 11))
        start = draw(st.sampled_from([0, 1]))
        scales["sc"] = {"points": points, "start": start,
                        "labels": {start: _label("low"), start + points - 1: _label("high")}}
        if dk is not None and draw(st.booleans()):
            scales["sc"]["missing"] = [dk]
        doc["scales"] = scales
    types = ["single", "multi", "integer", "likert5", "text"]
    if fmt == 2:
        types += ["number", "date", "datetime"] + (["scale", "grid"] if scales else [])
    n_items = draw(st.integers(1, 7))
    items: list[dict] = []
    filters: list[str] = []  # conditions on earlier items a later ask_if may use
    numeric: list[tuple[str, int]] = []  # (integer item without ask_if, its min)
    for i in range(n_items):
        kind = draw(st.sampled_from(types))
        var = f"v{i}"
        required = draw(st.booleans()) if kind not in ("text", "grid") else False
        item: dict = {"var": var, "section": "A", "type": kind, **_text(var)}
        missing: list[int] = []
        if kind in ("single", "likert5"):
            if kind == "likert5":
                codes = {k: _label(f"p{k}") for k in range(1, 6)}
            elif draw(st.booleans()):
                codes = {k: _label(f"c{k}") for k in range(1, draw(st.integers(2, 6)) + 1)}
            else:
                codes = {s: _label(s) for s in ["aa", "bb", "cc"][: draw(st.integers(2, 3))]}
            if dk is not None and draw(st.booleans()) and (fmt == 2 or kind == "single"):
                missing.append(dk)
                if fmt == 1:
                    codes[dk] = _label("dk")
            if fmt == 2 and kind == "single" and draw(st.booleans()):
                last = list(codes)[-1]
                codes[last] = {**codes[last], "specify": f"{var}_other"}
            item["codes"] = codes
            if draw(st.booleans()):
                keys = [c for c in codes] + [m for m in missing if m not in codes]
                weights = draw(st.lists(st.integers(1, 20), min_size=len(keys), max_size=len(keys)))
                pct = [100 * w / sum(weights) for w in weights]
                item["prior"] = {k: round(p, 6) for k, p in zip(keys, pct)}
            first = next(iter(codes))
            filters.append(f"{var} == {first!r}" if isinstance(first, str) else f"{var} == {first}")
        elif kind == "multi":
            n_opt = draw(st.integers(2, 4))
            codes = {f"o{k}": _label(f"o{k}") for k in range(n_opt)}
            if draw(st.booleans()):
                codes["none"] = {**_label("none"), "exclusive": True}
            if fmt == 2 and draw(st.booleans()):
                codes["o0"] = {**codes["o0"], "specify": f"{var}_other"}
            item["codes"] = codes
            if draw(st.booleans()) and len(codes) > 2:
                item["max_select"] = 2
            filters.append(f"{var}__o0 == 1")
        elif kind in ("integer", "number"):
            lo = draw(st.integers(0, 5))
            top = min(c for c in (na, no_answer, dk, refused) if c is not None and c > lo) - 1 \
                if any(c is not None and c > lo for c in (na, no_answer, dk, refused)) else 1000
            hi = draw(st.integers(lo + 1, max(lo + 1, min(top, 200))))
            item["validation"] = {"min": lo, "max": hi}
            if kind == "number":
                item["validation"]["decimals"] = draw(st.integers(0, 3))
            if fmt == 2 and dk is not None and draw(st.booleans()):
                missing.append(dk)
            if kind == "integer" and fmt == 2 and draw(st.booleans()):
                item["prior"] = {"distribution": "normal", "mean": (lo + hi) / 2,
                                 "sd": max(1, (hi - lo) / 4)}
        elif kind in ("date", "datetime"):
            if draw(st.booleans()):
                item["validation"] = {"min": "2010-01-01", "max": "2026-12-31"}
            if dk is not None and draw(st.booleans()):
                missing.append(dk)
        elif kind == "text":
            item["validation"] = {"max_length": draw(st.integers(20, 200))}
        elif kind == "scale":
            item["scale"] = "sc"
        if kind == "grid":
            item = {"grid": var, "section": "A", "scale": "sc", **_text(var),
                    "items": [{"var": f"{var}_{k}", **_text(f"{var}_{k}")}
                              for k in range(draw(st.integers(2, 3)))]}
        else:
            if kind != "text":
                if fmt == 1:
                    item["missing"] = sorted(missing + ([] if required else [no_answer]))
                elif missing:
                    item["missing"] = missing
            if required:
                item["required"] = True
        if filters[:-1] if kind in ("single", "likert5", "multi") else filters:
            pool = filters[:-1] if kind in ("single", "likert5", "multi") else filters
            if draw(st.booleans()):
                item["ask_if"] = draw(st.sampled_from(pool))
        if kind == "integer" and "ask_if" not in item:
            numeric.append((var, item["validation"]["min"]))
        items.append(item)
    doc["items"] = items
    if numeric and filters and draw(st.booleans()):
        var, lo = numeric[0]
        doc["rules"] = [{"id": "answered_when", "severity": "hard", "when": filters[0],
                         "require": f"{var} != 12345", "message_de": "m", "message_en": "m"}]
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _roundtrip(text: str, seed: int, tmp_path) -> None:
    inst = schemas.parse_instrument(text, source="random.yaml")
    sim = simulate_responses(inst, n=80, seed=seed, error_rate=0.1)
    path = tmp_path / f"export_{seed}.csv"
    path.write_bytes(sim.to_bytes())
    res = validate(read_export(path, inst), inst)
    assert res.report["n_valid"] + res.report["n_quarantined"] == len(sim.frame)
    got = sorted(int(x) for x in res.quarantine["line"])
    if got != sim.quarantined_lines:
        extra = set(got) - set(sim.quarantined_lines)
        reasons = res.quarantine.set_index("line")["reasons"]
        missed = [p for p in sim.planted if not set(p["lines"]) <= set(got)]
        raise AssertionError(f"quarantined but not planted: {[reasons[x] for x in sorted(extra)]}; "
                             f"planted but not quarantined: {missed}\n{text}")


COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow,
                                                       HealthCheck.function_scoped_fixture,
                                                       HealthCheck.data_too_large]}


@settings(max_examples=6, derandomize=True, **COMMON)
@given(text=instruments(), seed=st.integers(0, 2**16))
def test_random_instruments_simulate_and_validate(text, seed, tmp_path):
    _roundtrip(text, seed, tmp_path)


@pytest.mark.slow
@settings(max_examples=120, **COMMON)
@given(text=instruments(), seed=st.integers(0, 2**31 - 1))
def test_random_instruments_simulate_and_validate_many(text, seed, tmp_path):
    _roundtrip(text, seed, tmp_path)


def test_strategy_covers_the_format():
    """The generated instruments really use what the format offers (not a narrow corner)."""
    seen_types, seen_codes, grids, ask_ifs = set(), set(), 0, 0

    @settings(max_examples=150, derandomize=True, **COMMON)
    @given(text=instruments())
    def collect(text):
        nonlocal grids, ask_ifs
        inst = schemas.parse_instrument(text, source="random.yaml")
        seen_types.update(i.type for i in inst.items)
        seen_codes.add(inst.not_applicable)
        grids += any(i.grid for i in inst.items)
        ask_ifs += any(i.ask_if is not None for i in inst.items)

    collect()
    assert seen_types >= {"single", "multi", "integer", "likert5", "text", "number", "date",
                          "datetime", "scale"}
    assert seen_codes == {-7, 97, -1, 997}
    assert grids > 0 and ask_ifs > 10

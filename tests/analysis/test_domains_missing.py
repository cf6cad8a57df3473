"""by(columns, missing="exclude"): rows with a missing domain value belong to no domain but
keep their PSUs, as R's svyby (which drops NA groups); the default names them instead."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign


@pytest.fixture
def design_with_na(apiclus1):
    df = apiclus1.copy()
    df["grp"] = df["stype"].astype(object)
    df.loc[df.index[::7], "grp"] = None
    return df, SurveyDesign(df, weights="pw", psu="dnum", fpc="fpc")


def test_missing_domain_values_are_an_error_by_default(design_with_na):
    _, d = design_with_na
    with pytest.raises(ValueError, match=r"by column 'grp' has 27 missing value\(s\).*missing='exclude'"):
        d.by("grp").mean("api00")


def test_excluded_rows_are_in_no_domain_and_keep_their_psus(design_with_na):
    df, d = design_with_na
    res = d.by("grp", missing="exclude").mean(["api00", "enroll"])
    assert "27 row(s) with a missing grp are in no domain" in res.attrs["note"]
    assert "in no domain" in repr(res)
    # each domain equals the subset estimate (the subset keeps every PSU for the variance)
    for lev in ("E", "H", "M"):
        sub = d.subset((df["grp"] == lev).fillna(False).to_numpy(dtype=bool)).mean(["api00", "enroll"])
        np.testing.assert_allclose(res.xs(lev, level="grp")[["estimate", "se"]].to_numpy(),
                                   sub[["estimate", "se"]].to_numpy(), rtol=1e-12)
    q = d.by("grp", missing="exclude").quantile("api00", 0.5)
    assert list(q.index.get_level_values("grp")) == ["E", "H", "M"]
    assert "in no domain" in q.attrs["note"]
    with pytest.raises(ValueError, match="missing must be 'error' or 'exclude'"):
        d.by("grp", missing="drop")


def test_no_note_without_missing_values(apiclus1):
    d = SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    res = d.by("stype", missing="exclude").mean("api00")
    assert "note" not in res.attrs
    pd.testing.assert_frame_equal(pd.DataFrame(res), pd.DataFrame(d.by("stype").mean("api00")))


def test_excluded_missing_domain_values_match_r_svyby(design_with_na):
    """R: svyby(~api00, ~grp, d, svymean) with NA in grp (tests/analysis/reference/extra_design.R)."""
    import json
    from pathlib import Path

    from conftest import assert_close

    ref = json.loads((Path(__file__).parent / "reference" / "extra_design.json").read_text())
    ref = ref["svyby_na_grp_mean_api00"]
    _, d = design_with_na
    res = d.by("grp", missing="exclude").mean("api00")
    assert_close(res["estimate"].to_numpy(), [ref["estimate"][g] for g in ref["groups"]])
    assert_close(res["se"].to_numpy(), [ref["se"][g] for g in ref["groups"]])

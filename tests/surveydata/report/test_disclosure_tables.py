"""Report table helpers that publish counts, attacked with what other tables publish.

Each helper is given a table where a lone suppressed count would follow from published numbers
(worked out by hand below); it must suppress what gives the count away.
"""
import numpy as np
import pandas as pd

from surveydata.report import findings, tables
from surveydata.report.disclosure import MARKER


def test_frequency_table_does_not_leave_one_count_to_follow_from_the_shares():
    # yes 40 (80.0 %), no 7 (14.0 %), don't know 3: the total is 40 / 0.8 = 50, so hiding only
    # the 3 gives it away as 50 - 47. Hiding the 7 too: the two add up to 10, the 3 is in
    # [0, 10] (2 below and 2 above: protected).
    freq = pd.DataFrame({"n": [40, 7, 3]}, index=pd.Index(["yes", "no", "dk"], name="q1"))
    freq["share"] = freq["n"] / 50
    out = findings.frequency_table(freq, "en", 5)
    assert out.to_numpy().tolist() == [["40", "80.0"], [MARKER, MARKER], [MARKER, MARKER]]
    # exactly k: published, nothing else hidden
    freq5 = pd.DataFrame({"n": [40, 7, 5]}, index=pd.Index(["yes", "no", "dk"], name="q1"))
    freq5["share"] = freq5["n"] / 52
    assert MARKER not in findings.frequency_table(freq5, "en", 5).to_numpy().ravel().tolist()


def test_nonresponse_counts_do_not_follow_from_the_estimates_n():
    # restore tested, the demo at --min-cell 60: asked 1460, don't know 261, no answer 22; the
    # estimates page shows n = 1177 answered, so 22 = 1460 - 261 - 1177 unless 261 goes too
    nr = pd.DataFrame({"asked": [1460], "dont_know": [261], "no_answer": [22]}, index=["tm_restore_test"])
    assert tables.nonresponse_table(nr, "en", k=60).loc["tm_restore_test"].tolist() == ["1460", MARKER, MARKER]
    shares = tables.nonresponse_shares(nr, "en", k=60)
    assert np.isnan(shares["Don't know"].iloc[0]["estimate"]) and np.isnan(shares["No answer"].iloc[0]["estimate"])
    # at k = 5 the 22 is published and so is everything else
    assert tables.nonresponse_table(nr, "en", k=5).loc["tm_restore_test"].tolist() == ["1460", "17.9", "1.5"]


def test_nonresponse_never_hides_the_answered_count_instead():
    # asked 52 = answered 9 + don't know 3 + no answer 40. Hiding the 9 would be cheapest, but
    # the 9 is the estimates' n on another page: then 3 = 52 - 9 - 40. The 40 must go.
    nr = pd.DataFrame({"asked": [52], "dont_know": [3], "no_answer": [40]}, index=["q"])
    assert tables.nonresponse_table(nr, "en", k=5).loc["q"].tolist() == ["52", MARKER, MARKER]


def test_an_item_asked_of_fewer_than_k_shows_no_count():
    # asked 4 (3 answered, 1 don't know, 0 no answer): the 4 itself is below k
    nr = pd.DataFrame({"asked": [4], "dont_know": [1], "no_answer": [0]}, index=["q"])
    assert tables.nonresponse_table(nr, "en", k=5).loc["q"].tolist() == [MARKER, MARKER, "0.0"]

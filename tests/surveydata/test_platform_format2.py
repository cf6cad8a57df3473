"""The ODK reader (and REDCap, same code) with an instrument of format 2 (pharmacy_staff: missing codes
97/98/99, numbers, a date, a grid): blanks become 97 where the skip logic did not ask and 99
where it did, never the practice instrument's -7/-9."""
from __future__ import annotations

import csv
import io

import pandas as pd

import schemas
from surveydata.platforms.odk import read_odk_csv
from surveydata.simulate.generic import simulate_responses


def test_odk_reader_uses_the_instruments_missing_codes():
    inst = schemas.load_instrument("pharmacy_staff")
    frame = simulate_responses(inst, n=80, seed=11, error_rate=0.0, decimal=".",
                               separator=";").frame.astype("str")
    na, noans = str(inst.not_applicable), str(inst.no_answer)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["start", "end", *[f"section_{i.section}-{i.var}" for i in inst.items],
                "meta-instanceID"])
    for _, raw in frame.iterrows():
        rec = ["2026-03-01T09:00:00", "2026-03-01T09:10:00"]
        for item in inst.items:
            if item.type == "multi":
                vals = [raw[c] for c in item.columns]
                if set(vals) == {na}:
                    rec.append("")
                elif len(set(vals)) == 1 and vals[0] not in ("0", "1"):
                    rec.append(vals[0])
                else:
                    rec.append(" ".join(o.code for o, v in zip(item.options, vals) if v == "1"))
            else:
                v = raw[item.var]
                rec.append("" if v in (na, noans) and item.type != "text" else v)
        rec.append(raw["response_id"])
        w.writerow(rec)
    back = read_odk_csv(io.StringIO(out.getvalue()), inst)
    items = [c for c in inst.columns if c not in ("submitted_at", "duration_s")]
    pd.testing.assert_frame_equal(back[items], frame[items], check_dtype=False)
    assert (back == "-7").sum().sum() == 0 and (back == na).sum().sum() > 0

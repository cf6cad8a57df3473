"""An export without records and an instrument without duration metadata (QA findings F23, F1):
both validate through the CLI's chunked path and write their outputs, never a traceback."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import schemas
from surveydata.cli import main
from surveydata.io import ExportChunks
from surveydata.validate import validate_chunks

ROOT = Path(__file__).resolve().parents[2]
POLL = ROOT / "tests" / "data" / "unseen" / "poll.yaml"          # metadata: response_id only


def _poll_export(tmp_path: Path, rows: list[list[str]]) -> Path:
    cols = list(schemas.load_instrument(POLL).columns)
    path = tmp_path / "poll.csv"
    path.write_text("\n".join([",".join(cols)] + [",".join(r) for r in rows]) + "\n", encoding="utf-8")
    return path


def test_an_instrument_without_duration_validates_and_screens_no_speeders(tmp_path):
    inst = schemas.load_instrument(POLL)
    assert "duration_s" not in inst.columns
    assert inst.columns == ("response_id", "q1", "q2", "q3", "q4", "q5", "q6")   # q6 is coded a, b, c
    answers = ["1", "1", "1", "1", "1", "a"]
    path = _poll_export(tmp_path, [[f"r{i}", *answers] for i in range(6)] + [["r9", "7", *answers[1:]]])
    result = validate_chunks(ExportChunks(path, inst), inst)
    assert (result.report["n_raw"], result.report["n_valid"], result.report["n_quarantined"]) == (7, 6, 1)
    assert not (result.flags["flag"] == "speeder").any()
    assert result.quarantine["response_id"].tolist() == ["r9"]


def test_a_header_without_records_writes_empty_outputs(tmp_path):
    path = _poll_export(tmp_path, [])
    out = tmp_path / "out"
    assert main(["validate", str(path), "--instrument", str(POLL), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert (report["n_raw"], report["n_valid"], report["n_quarantined"]) == (0, 0, 0)
    valid = pd.read_parquet(out / "valid.parquet")
    assert len(valid) == 0 and "q1" in valid.columns
    assert pd.read_csv(out / "quarantine.csv").empty


def test_an_empty_cell_is_explained_with_the_instruments_own_missing_codes(tmp_path):
    """QA F21: the message named -9/-7 whatever the instrument's codes (here 99 and 97)."""
    from surveydata import read_export, validate
    from surveydata.simulate.generic import simulate_responses

    inst = schemas.load_instrument(ROOT / "tests" / "data" / "unseen" / "nurses.yaml")
    assert (inst.no_answer, inst.not_applicable) == (99, 97)
    sim = simulate_responses(inst, n=20, seed=2, error_rate=0.0)
    path = tmp_path / "nurses.csv"
    path.write_bytes(sim.to_bytes())
    frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    item = next(it.var for it in inst.items if it.required and it.type == "single")
    frame.loc[3, item] = ""
    frame.to_csv(path, sep=";", index=False)
    failures = validate(read_export(path, inst), inst).failures
    empty = failures[failures["column"] == item]
    assert empty["message"].tolist() == ["empty cell (an unanswered question is coded 99, a skipped one 97)"]

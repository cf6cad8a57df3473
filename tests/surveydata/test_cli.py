"""The surveydata command line, end to end in a subprocess."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from surveydata._safe_csv import neutralise, neutralise_frame

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "data" / "example_export_de.csv"


def run(*args, module="surveydata"):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=ROOT,
                          check=False, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    proc = run("validate", EXAMPLE, "--out", out)
    return proc, out


def test_validate_writes_every_output(validated):
    proc, out = validated
    assert proc.returncode == 0, proc.stderr
    assert "41 rows read, 36 valid, 5 quarantined" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert (report["n_raw"], report["n_valid"], report["n_quarantined"]) == (41, 36, 5)
    assert report["instrument"]["name"] == "practice_security"
    import hashlib
    assert report["input_sha256"] == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert report["input"]["encoding"] == "cp1252" and report["input"]["separator"] == ";"
    valid = pd.read_parquet(out / "valid.parquet")
    assert len(valid) == 36 and valid["line"].is_monotonic_increasing
    assert valid.loc[valid["line"] == 3, "comments"].item().startswith("=HYPERLINK")  # data kept
    assert valid["duration_s"].dtype == "float64"  # decimal comma read
    q = pd.read_csv(out / "quarantine.csv", dtype=str, keep_default_na=False)
    assert list(q.columns) == ["response_id", "line", "reasons"]
    assert q["line"].tolist() == ["4", "5", "6", "7", "42"]
    assert q["reasons"].iloc[1] == ("n_physicians='3,5': dtype:n_physicians "
                                    "(n_physicians must be a whole number (a code or a count))")
    flags = pd.read_csv(out / "flags.csv", dtype=str)
    assert "speeder" in flags["flag"].tolist()


def test_quarantine_csv_is_formula_safe(validated):
    _, out = validated
    with open(out / "quarantine.csv", newline="", encoding="utf-8") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert "'=1+2" in cells  # the response_id "=1+2" cannot run as a formula in a spreadsheet
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)
    assert not any(c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit()
                   for c in cells)


@pytest.mark.parametrize("value,safe", [
    ("=SUM(A1)", "'=SUM(A1)"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\r=x", "'\r'=x"), ("-7", "-7"), ("+3.5", "+3.5"), ("a=b", "a=b"), ("", ""),
])
def test_neutralise(value, safe):
    assert neutralise(value) == safe
    assert neutralise_frame(pd.DataFrame({"t": [value]}))["t"].item() == safe


def test_missing_file_is_a_one_line_error(tmp_path):
    proc = run("validate", tmp_path / "nope.csv", "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert "nope.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_column_names_file_and_column(tmp_path):
    lines = EXAMPLE.read_bytes().split(b"\r\n")
    header = lines[0].split(b";")
    k = header.index(b"tm_mfa")
    cut = [b";".join(p for i, p in enumerate(line.split(b";")) if i != k) for line in lines]
    path = tmp_path / "cut.csv"
    path.write_bytes(b"\r\n".join(cut))
    proc = run("validate", path, "--out", tmp_path / "o")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "cut.csv" in proc.stderr and "line 1" in proc.stderr and "'tm_mfa'" in proc.stderr


def test_rename_reads_a_renamed_column_and_malformed_pairs_are_one_line_errors(tmp_path):
    lines = EXAMPLE.read_bytes().split(b"\r\n")
    lines[0] = lines[0].replace(b"tm_mfa", b"MFA")
    path = tmp_path / "renamed.csv"
    path.write_bytes(b"\r\n".join(lines))
    proc = run("validate", path, "--rename", "MFA=tm_mfa", "--out", tmp_path / "o")
    assert proc.returncode == 0, proc.stderr
    assert "41 rows read, 36 valid, 5 quarantined" in proc.stdout
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert json.dumps(report).count('"MFA"') >= 1       # the rename is part of the provenance
    for bad in ("MFA", "=tm_mfa", "MFA="):
        proc = run("validate", path, "--rename", bad, "--out", tmp_path / "o2")
        assert proc.returncode == 2 and "THEIRS=OURS" in proc.stderr and "Traceback" not in proc.stderr


def test_unreadable_encoding_and_bad_instrument(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"response_id\n\x81\x8d\n")
    proc = run("validate", path, "--out", tmp_path / "o")
    assert proc.returncode == 2 and "bin.csv" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("validate", EXAMPLE, "--instrument", tmp_path / "none.yaml", "--out", tmp_path)
    assert proc.returncode == 2 and "none.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_usage_errors_exit_2(tmp_path):
    assert run("validate", EXAMPLE).returncode == 2  # --out missing
    assert run("frobnicate").returncode == 2
    proc = run("validate", EXAMPLE, "--format", "xlsx", "--out", tmp_path)
    assert proc.returncode == 2


@pytest.mark.parametrize("name,lang,start", [("cb.md", "en", "# Codebook"),
                                             ("cb.html", "de", "<!DOCTYPE html>")])
def test_codebook(tmp_path, name, lang, start):
    proc = run("codebook", "--lang", lang, "--out", tmp_path / name)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / name).read_text(encoding="utf-8")
    assert text.startswith(start) and "practice_type" in text


def test_codebook_unknown_extension(tmp_path):
    proc = run("codebook", "--out", tmp_path / "cb.pdf")
    assert proc.returncode == 2 and "cb.pdf" in proc.stderr and "Traceback" not in proc.stderr


def test_module_entry_points_and_console_script():
    assert run("--help", module="surveydata.cli").returncode == 0
    assert "validate" in run("--help").stdout
    script = Path(sys.executable).with_name("surveydata")  # installed by `make setup`
    proc = subprocess.run([str(script), "--help"], check=False, capture_output=True, text=True)
    assert proc.returncode == 0 and "codebook" in proc.stdout


def test_validate_lang_en_labels(tmp_path):
    proc = run("validate", EXAMPLE, "--lang", "en", "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    valid = pd.read_parquet(tmp_path / "valid.parquet")
    assert set(valid["practice_form"].dropna().unique()) <= {
        "Single-handed practice", "Group practice (BAG)", "Medical care centre (MVZ)",
        "Practice association (separate practices sharing resources)"}

"""`surveydata simulate`: the four files, byte-identical for the same seed, from the study's population model when it declares one (else the generic simulator), one-line usage errors."""
import json
from pathlib import Path

import pandas as pd

from surveydata.cli import main

FILES = ["README.md", "export.csv", "strata.csv", "truth.json"]


def test_simulate_writes_four_files_byte_identical_for_the_same_seed(tmp_path, capsys):
    args = ["simulate", "--seed", "7", "--n-invited", "3000", "--response-rate", "0.25", "--error-rate", "0.04"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert "simulated" in capsys.readouterr().out
    a, b = tmp_path / "a", tmp_path / "b"
    assert sorted(p.name for p in a.iterdir()) == FILES
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name

    strata = pd.read_csv(a / "strata.csv", dtype={"stratum": "str"})
    assert list(strata.columns) == ["stratum", "N_h", "n_invited", "n_responded"]
    assert strata["n_invited"].sum() == 3000 and strata["N_h"].sum() == 141655 and len(strata) == 80
    truth = json.loads((a / "truth.json").read_text(encoding="utf-8"))
    assert truth["sample"]["n_responded"] == strata["n_responded"].sum()
    assert {"population", "models", "sample", "planted_errors", "generating_model"} <= set(truth)
    n_err = round(0.04 * truth["sample"]["n_responded"])
    assert len(truth["planted_errors"]) == n_err
    kinds = {v["kind"] for v in truth["planted_errors"].values()}
    assert kinds == {"invalid_code", "skip_logic", "bad_integer", "duplicate_row", "duplicate_response_id", "speeder"}
    assert set(truth["models"]) == {"incident_logit", "tech_index_poisson", "implementation_polr"}
    # the export is Windows-1252 with a semicolon header and a decimal comma in duration_s
    text = (a / "export.csv").read_bytes().decode("cp1252")
    rows = text.split("\r\n")
    assert rows[0].startswith("response_id;submitted_at;duration_s;practice_type")
    assert "," in rows[1].split(";")[2]
    readme = (a / "README.md").read_text(encoding="utf-8")
    assert "surveydata simulate --seed 7 --n-invited 3000" in readme and str(tmp_path) not in readme


def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys):
    assert main(["simulate", "--seed", "1", "--response-rate", "1.5", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "response_rate" in err and "1.5" in err
    assert main(["simulate", "--seed", "1", "--n-invited", "10", "--out", str(tmp_path)]) == 2
    assert "minimum allocation" in capsys.readouterr().err


STUDY = Path(__file__).resolve().parents[2] / "schemas" / "studies" / "pharmacy_staff.yaml"


def test_a_study_with_a_population_model_is_simulated_from_it(tmp_path, capsys):
    # the pharmacy staff study declares `simulation:`: its model (strata, truth), not the priors
    args = ["simulate", "--seed", "3", "--study", str(STUDY), "--n-invited", "1500", "--response-rate", "0.3"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert "from the population model of pharmacy_staff" in capsys.readouterr().out
    a = tmp_path / "a"
    assert sorted(p.name for p in a.iterdir()) == FILES
    truth = json.loads((a / "truth.json").read_text(encoding="utf-8"))
    assert truth["instrument"]["name"] == "pharmacy_staff"
    strata = pd.read_csv(a / "strata.csv", dtype={"stratum": "str"})
    assert strata["n_invited"].sum() == 1500 == truth["sample"]["n_invited"]
    assert truth["sample"]["n_responded"] == strata["n_responded"].sum() > 0
    assert {"population", "models", "planted_errors"} <= set(truth)
    readme = (a / "README.md").read_text(encoding="utf-8")
    assert f"Made by `surveydata simulate --study {STUDY} --seed 3 --n-invited 1500" in readme
    assert "population model" in readme
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    for name in FILES:
        assert (a / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_n_asks_for_the_generic_simulator_and_mixing_is_a_one_line_error(tmp_path, capsys):
    assert main(["simulate", "--seed", "2", "--study", str(STUDY), "--n", "40", "--out", str(tmp_path / "g")]) == 0
    assert "not from the study's population model" in capsys.readouterr().out
    truth = json.loads((tmp_path / "g" / "truth.json").read_text(encoding="utf-8"))
    assert truth["n_respondents"] == 40 and not (tmp_path / "g" / "strata.csv").exists()
    assert main(["simulate", "--study", str(STUDY), "--n", "40", "--n-invited", "900",
                 "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "exclude each other" in err and not (tmp_path / "x").exists()
    inst = Path(__file__).resolve().parents[1] / "data" / "unseen" / "poll.yaml"
    assert main(["simulate", "--instrument", str(inst), "--n-invited", "900", "--out", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "declares no simulation: section" in err

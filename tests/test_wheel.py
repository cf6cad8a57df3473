"""The built wheel works without the repository: instruments, studies, populations, the demo,
report assets, fieldwork templates and migrations, and the example data are package data.

The wheel is built from this checkout (pip wheel, no dependencies), unpacked into a temporary
folder and imported from there, in another working directory, by the test interpreter: the
editable install of the checkout is shadowed (PYTHONPATH comes first), which the test checks.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import pathlib, sys
import schemas, surveydata, analysis
site = pathlib.Path(sys.argv[1])
for mod in (schemas, surveydata, analysis):
    assert pathlib.Path(mod.__file__).is_relative_to(site), mod.__file__
study = schemas.load_study()
assert study.instrument.name == "practice_security"
for f in sorted((pathlib.Path(schemas.__file__).parent / "studies").glob("*.yaml")):
    schemas.load_study(f)
df = surveydata.load_demo()
assert len(df) > 1000
from analysis import datasets
assert len(datasets.load("apipop")) == 6194
print("ok", len(df))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # build from a copy of the tracked files: pip builds in the source folder and would leave
    # build/ behind in the checkout (and a copy holds exactly what a clone holds)
    src = tmp_path_factory.mktemp("src")
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
                          str(src)], capture_output=True, text=True, check=False, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    (whl,) = out.glob("*.whl")
    return whl


def test_wheel_carries_the_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = ["schemas/instruments/practice_security.yaml", "schemas/studies/practice_security.yaml",
                "schemas/populations/de_practices.yaml", "surveydata/demo/export.csv",
                "surveydata/demo/strata.csv", "analysis/datasets/apistrat.csv"]
    missing = [e for e in expected if e not in names]
    assert not missing, missing
    for folder in ("surveydata/report/assets/", "surveydata/fieldwork/templates/",
                   "surveydata/fieldwork/migrations/"):
        if (ROOT / folder).is_dir():
            in_repo = {str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts}
            assert in_repo <= names, sorted(in_repo - names)[:5]


def test_the_unpacked_wheel_runs_outside_the_repository(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site))
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(site)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=False, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith("ok")

"""pyproject.toml is the single source of truth; environment.yml and the lock file must agree with it."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[\s<>=!~\[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_mirrors_pyproject():
    project = _pyproject()["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pythons = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert pythons, "environment.yml must pin python"
    major_minor = pythons[0].split("=")[1]
    assert f">={major_minor}" in project["requires-python"]
    assert "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    # The project installs itself (with its dev extra) through pip: no dependency is typed twice.
    assert pip_section == ["-e .[dev]"], pip_section
    conda_pkgs = [d for d in deps if isinstance(d, str)]
    assert sorted(conda_pkgs) == sorted(pythons + ["pip"]), (
        "environment.yml lists packages beside python and pip; declare them in pyproject.toml"
    )


def test_lock_file_covers_every_declared_dependency():
    project = _pyproject()["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    lock = (ROOT / "requirements.lock").read_text()
    locked = {m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==", lock, re.MULTILINE)}
    missing = declared - locked
    assert not missing, f"requirements.lock lacks {sorted(missing)}: run `make lock`"
    assert "--hash=sha256:" in lock, "the lock must carry hashes"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make report" in readme

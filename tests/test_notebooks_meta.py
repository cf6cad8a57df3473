"""The committed notebooks: parameterised, executed, thin, deterministic, and really checked by nbval.

nbval itself runs over notebooks/ in `make test`; these tests check what nbval cannot see (that
there is something to compare, that nothing is masked wholesale) and that nbval does fail when a
stored finding changes.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
GENERIC = ["01_data_quality", "02_sample_weighting", "03_estimates", "04_models"]
#: study-specific pages, listed in their study's report.extra_pages
EXTRA = {"practice_security": ["05_information_vs_equipment"]}
PARAMETERS = {"data": None, "study": None, "instrument": None, "lang": None, "k_min": 5}
GENERIC_NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
NOTEBOOKS = GENERIC_NOTEBOOKS + sorted(NOTEBOOK_DIR.glob("studies/*/[0-9][0-9]_*.ipynb"))
MAX_CELL_LINES = 15


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _text_outputs(cell) -> list[str]:
    out = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            out.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            for mime in ("text/plain", "text/html", "text/markdown"):
                if mime in o.data:
                    out.append(o.data[mime])
    return out


def test_the_generic_pages_and_the_study_pages_are_there():
    assert [p.stem for p in GENERIC_NOTEBOOKS] == GENERIC
    for study, pages in EXTRA.items():
        assert sorted(p.stem for p in (NOTEBOOK_DIR / "studies" / study).glob("*.ipynb")) == pages


def test_the_practice_study_lists_its_extra_page():
    import schemas

    extra = [Path(p).stem for p in schemas.load_study().report.extra_pages]
    assert extra == EXTRA["practice_security"]


@pytest.mark.parametrize("path", GENERIC_NOTEBOOKS, ids=lambda p: p.stem)
def test_generic_pages_name_no_variable_of_any_study(path):
    """A generic page reads outcomes, domains, models and labels from the study: the practice
    study's items and derived variables appear nowhere in its code."""
    import schemas

    study = schemas.load_study()
    names = {i.var for i in study.instrument.items} | {d.var for d in study.derived}
    code = "\n".join(c.source for c in _read(path).cells if c.cell_type == "code")
    named = sorted(n for n in names if re.search(rf"\b{n}\b", code))
    assert not named, f"{path.name} names {named}"
    assert not [c for c in _read(path).cells if c.cell_type == "markdown"], \
        "no fixed-language markdown: page text comes from the edition's language"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_comes_first_with_the_report_parameters(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[0], "one parameters cell, the first code cell"
    values = {}
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign), "the parameters cell only assigns values"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert {k: values.get(k) for k in PARAMETERS} == PARAMETERS
    assert isinstance(values.get("seed"), int)
    assert nb.metadata.kernelspec.name == "python3"
    meta = nb.metadata.get("report", {})
    assert all(meta.get(f"{f}_{lang}") for f in ("title", "summary") for lang in ("de", "en"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_are_complete_in_order_and_free_of_errors(path):
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run top to bottom"
    for c in code:
        for o in c.outputs:
            assert o.output_type != "error", f"stored error in cell {c.execution_count}"
            assert not (o.output_type == "stream" and o.name == "stderr"), \
                f"warning text stored in cell {c.execution_count}: {o.text[:200]}"
            assert "image/svg+xml" not in o.get("data", {}), "SVG is compared by nbval: use PNG"
    findings = [t for c in code for t in _text_outputs(c) if re.search(r"\d", t)]
    assert len(findings) >= 3, "a notebook shows its findings as text that nbval compares"
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), "no figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_thin_and_deterministic(path):
    nb = _read(path)
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        src = c.source
        logic = [type(n).__name__ for n in ast.walk(ast.parse(src))
                 if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.Try))]
        assert not logic, f"logic ({logic}) belongs in the packages, not in cell {c.execution_count}"
        assert len(src.splitlines()) <= MAX_CELL_LINES, f"cell {c.execution_count} is long"
        assert "NBVAL_SKIP" not in src and "NBVAL_IGNORE_OUTPUT" not in src, \
            f"cell {c.execution_count} hides its output from nbval"
        last = src.rstrip().splitlines()[-1] if src.strip() else ""
        if "plots." in src:
            assert last.endswith(";"), f"end the plotting line with ';' (cell {c.execution_count})"
        for text in _text_outputs(c):
            assert not re.search(r"\b20\d\d-\d\d-\d\d[ T]\d\d:\d\d", text), "timestamp in an output"
            assert not re.search(r"0x[0-9a-fA-F]{6,}", text), "memory address in an output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_free_text_in_stored_outputs(path):
    import schemas

    inst = schemas.load_instrument()
    text_vars = [i.var for i in inst.items if i.type == "text"]
    stored = json.dumps([_text_outputs(c) for c in _read(path).cells if c.cell_type == "code"])
    for var in text_vars:
        assert not re.search(rf"\b{var}\b", stored), f"free-text column {var} shown in {path.name}"


def _run_nbval(notebook: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
         str(SANITIZE), "-p", "no:cacheprovider", "-q", str(notebook)],
        capture_output=True, text=True, cwd=notebook.parent, check=False)


def test_nbval_fails_when_a_stored_number_changes(tmp_path):
    """Change one digit of one stored finding: nbval must notice (and pass on the untouched copy)."""
    source = NOTEBOOK_DIR / "01_data_quality.ipynb"
    intact = tmp_path / "intact" / source.name
    intact.parent.mkdir()
    shutil.copyfile(source, intact)
    res = _run_nbval(intact)
    assert res.returncode == 0, f"nbval fails on the committed notebook itself:\n{res.stdout[-3000:]}"

    nb = _read(source)
    for cell in nb.cells:
        changed = False
        for o in cell.get("outputs", []):
            if o.output_type == "stream" and re.search(r"\d", o.text):
                o.text = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), o.text, count=1)
                changed = True
                break
            if o.output_type == "execute_result" and re.search(r"\d", o.data.get("text/plain", "")):
                o.data["text/plain"] = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10),
                                              o.data["text/plain"], count=1)
                changed = True
                break
        if changed:
            break
    assert changed, "no stored number to change"
    edited = tmp_path / "edited" / source.name
    edited.parent.mkdir()
    nbformat.write(nb, edited)
    res = _run_nbval(edited)
    assert res.returncode != 0, "nbval passed although a stored number was changed"
    assert "failed" in res.stdout.lower()

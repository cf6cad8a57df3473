"""Random broken declarations never crash: load_study raises only DeclarationError (one line),
and the CLI (`surveydata codebook|validate --study`) answers them with exit code 2, one line on
stderr, no traceback and nothing written.

Declarations are the packaged practice study (and the instrument's `derived:` section) with 1-3
random mutations: a key deleted, a value of the wrong type (including 3,000 nested parentheses
or `not`s), a reference renamed to another or an unknown name, an unknown key, a cycle between
derived variables, a list entry duplicated.
"""

import contextlib
import copy
import io
import subprocess
import sys
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import schemas
from schemas.errors import DeclarationError

STUDY = yaml.safe_load((Path(schemas.__file__).parent / "studies" / "practice_security.yaml")
                       .read_text(encoding="utf-8"))
INSTRUMENT_FILE = Path(schemas.load_instrument().source)
STUDY["study"]["instrument"] = str(INSTRUMENT_FILE)
INSTRUMENT = yaml.safe_load(INSTRUMENT_FILE.read_text(encoding="utf-8"))
EXPORT = Path(__file__).resolve().parents[1] / "data" / "example_export_de.csv"

WRONG = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
    st.text(max_size=12), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.just("(" * 3000 + "x" + ")" * 3000), st.just("not " * 3000 + "x == 1"),
    st.just([[[[[[]]]]]]))
NAMES = st.sampled_from(["practice_type", "nope", "tm_antivirus", "guideline_full",
                         "info_sources", "tech_share", "x__y", "_hidden", "a b", "",
                         "federal_state", "info_sources__none", "weight", "kbv_size_class"])


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _at(node, path):
    for p in path:
        node = node[p]
    return node


@st.composite
def mutated(draw, base):
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _at(data, path[:-1])
        kind = draw(st.sampled_from(["delete", "wrong_type", "rename", "unknown_key", "cycle",
                                     "duplicate"]))
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "wrong_type":
            parent[path[-1]] = draw(WRONG)
        elif kind == "rename":
            parent[path[-1]] = draw(NAMES)
        elif kind == "unknown_key":
            target = parent if isinstance(parent, dict) else data
            target[draw(st.sampled_from(["colour", "titel", "strata", "compute", "var"]))] = 1
        elif kind == "cycle" and isinstance(data.get("derived"), list):
            data["derived"] += [{"var": "cyc_a", "compute": {"expr": "cyc_b + 1"}},
                                {"var": "cyc_b", "compute": {"ratio": ["cyc_a", "tech_share"]}}]
        elif kind == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return data


def _instrument_with(derived) -> dict:
    return {**INSTRUMENT, "derived": derived.get("derived")}


def _write(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _error_of(path: Path) -> str | None:
    """The DeclarationError message of loading `path`, or None when it loads."""
    try:
        schemas.load_study(path)
    except DeclarationError as err:
        return str(err)
    return None


FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@FUZZ
@given(data=st.one_of(mutated(STUDY), mutated({"derived": INSTRUMENT["derived"]})
                      .map(_instrument_with)))
def test_loading_broken_declarations_raises_only_declaration_errors(tmp_path_factory, data):
    path = _write(tmp_path_factory.mktemp("decl") / "decl.yaml", data)
    message = _error_of(path)  # anything but a DeclarationError fails the test here
    if message is not None:
        assert "\n" not in message and message.startswith(str(path)), message


def _cli(argv) -> tuple[int, str]:
    from surveydata.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse
            code = exit_.code
    return code, err.getvalue()


@settings(FUZZ, max_examples=10)
@given(data=mutated(STUDY))
def test_cli_answers_broken_studies_with_one_line_and_writes_nothing(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("cli")
    path = _write(folder / "study.yaml", data)
    if _error_of(path) is None:
        return  # the mutation left a valid declaration: nothing to refuse
    out = folder / "out"
    for argv in (["codebook", "--study", str(path), "--out", str(out / "codebook.md")],
                 ["validate", str(EXPORT), "--study", str(path), "--out", str(out)]):
        code, stderr = _cli(argv)
        assert code == 2, (argv[0], code, stderr)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in stderr, stderr
        assert lines[0].startswith(f"surveydata {argv[0]}: error: {path}"), lines[0]
        assert not out.exists(), f"{argv[0]} wrote {sorted(out.rglob('*'))}"


def test_the_installed_command_prints_no_traceback(tmp_path):
    data = copy.deepcopy(STUDY)
    data["derived"].append({"var": "deep", "compute": {"expr": "(" * 5000 + "x" + ")" * 5000}})
    path = _write(tmp_path / "study.yaml", data)
    run = subprocess.run([sys.executable, "-m", "surveydata", "codebook", "--study", str(path),
                          "--out", str(tmp_path / "cb.md")], capture_output=True, text=True,
                         check=False,
                         timeout=120)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "nested deeper than 100 levels" in run.stderr
    assert not (tmp_path / "cb.md").exists()

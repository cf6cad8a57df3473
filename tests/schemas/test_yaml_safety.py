"""Declarations are read safely: schemas._yaml bounds size, depth and alias expansion, refuses
object tags and duplicate keys, keeps booleans strict; structural mistakes are one-line errors."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from schemas import InstrumentError, load_instrument
from schemas._yaml import load_yaml, read_yaml
from schemas.errors import DeclarationError
from schemas.populations import PopulationMarginsError, load_population_margins

ROOT = Path(__file__).resolve().parents[2]
BASE = (ROOT / "tests" / "schemas" / "test_instrument.py").read_text(encoding="utf-8")
MINI = textwrap.dedent(BASE.split('BASE = """', 1)[1].split('"""', 1)[0])


def _laughs(levels: int = 9, key: str = "lol") -> str:
    """A billion-laughs block: 9 aliases per level, `levels` levels (9**levels leaves)."""
    lines = [f'{key}0: &{key}0 ["lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*{key}{i - 1}"] * 9)
        lines.append(f"{key}{i}: &{key}{i} [{refs}]")
    return "\n".join(lines) + "\n"


def _write(tmp_path, text, name="inst.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _one_line_error(exc_info, path) -> str:
    msg = str(exc_info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: "), msg
    return msg


@pytest.mark.parametrize("where", ["meta", "note"])
def test_billion_laughs_in_an_instrument_is_refused_within_a_second(tmp_path, where):
    bomb = textwrap.indent(_laughs(), "  ")
    if where == "meta":
        text = MINI.replace('meta: {title_de: "Mini", title_en: "Mini"}',
                            'meta:\n  title_de: "Mini"\n  title_en: "Mini"\n' + bomb)
    else:
        text = MINI.replace("    validation: {min: 0, max: 10}\n",
                            "    validation: {min: 0, max: 10}\n    note:\n"
                            + textwrap.indent(_laughs(), "      "))
    path = _write(tmp_path, text)
    start = time.perf_counter()
    with pytest.raises(InstrumentError) as err:
        load_instrument(path)
    assert time.perf_counter() - start < 1.0
    assert "alias bomb" in _one_line_error(err, path)


def test_aliases_within_budget_still_work():
    # the practice instrument uses anchors for its shared scales
    assert load_yaml("a: &x [1, 2]\nb: *x\nc: *x\n") == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}
    assert len(load_instrument().items) == 55


def test_budget_counts_expanded_nodes_not_text():
    text = _laughs(levels=5)  # 9**5 = 59,049 leaves: within 200,000
    assert len(load_yaml(text)["lol5"]) == 9
    with pytest.raises(DeclarationError, match="beyond 200000 nodes"):
        load_yaml(_laughs(levels=6))  # 531,441 leaves


def test_recursive_alias_is_refused():
    with pytest.raises(DeclarationError, match=r"x.yaml: line 1, column \d+: alias \*a is used inside"):
        load_yaml("a: &a [1, *a]\n", source="x.yaml")


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "a:\n" + "".join(
    " " * (2 * i) + f"k{i}:\n" for i in range(1, 200)) + " " * 400 + "v: 1\n"])
def test_deep_nesting_is_a_message_not_a_recursion_error(text):
    with pytest.raises(DeclarationError, match="nested deeper than 64 levels"):
        load_yaml(text, source="deep.yaml")


def test_size_limit(tmp_path):
    path = _write(tmp_path, "a: " + "x" * 200 + "\n")
    with pytest.raises(DeclarationError, match=r"is larger than the limit of 100$"):
        read_yaml(path, max_bytes=100)


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system [echo hi]",
                                 "!!python/name:os.system", "!!binary aGVsbG8="])
def test_object_tags_are_refused_except_plain_data(tag):
    if tag.startswith("!!binary"):
        assert load_yaml(f"x: {tag}") == {"x": b"hello"}
        return
    with pytest.raises(DeclarationError, match="is not allowed"):
        load_yaml(f"x: {tag}", source="evil.yaml")


def test_duplicate_keys_are_refused(tmp_path):
    text = MINI.replace("    text_en: \"Kind?\"\n", "    text_en: \"Kind?\"\n    text_en: \"Sort?\"\n")
    path = _write(tmp_path, text)
    with pytest.raises(InstrumentError) as err:
        load_instrument(path)
    assert "duplicate key 'text_en'" in _one_line_error(err, path)


def test_yaml_1_1_words_stay_strings_only_true_false_are_booleans():
    data = load_yaml("a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: NO\nh: 1:30\ni: 010\n")
    assert data == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False,
                    "g": "NO", "h": "1:30", "i": 8}


@pytest.mark.parametrize("value", ["'no'", "no", "yes", "'false'", "0", "1"])
def test_required_must_be_a_real_boolean(tmp_path, value):
    text = MINI.replace("    missing: [-8, -9]\n", f"    required: {value}\n    missing: [-8, -9]\n", 1)
    path = _write(tmp_path, text)
    with pytest.raises(InstrumentError) as err:
        load_instrument(path)
    msg = _one_line_error(err, path)
    assert "item 'kind': required must be true or false (unquoted), got " in msg


def test_exclusive_and_ordered_are_strict_too(tmp_path):
    text = MINI.replace("exclusive: true", "exclusive: 'yes'")
    with pytest.raises(InstrumentError, match="exclusive must be true or false"):
        load_instrument(_write(tmp_path, text))
    text = MINI.replace("    missing: [-8, -9]\n", "    ordered: 'no'\n    missing: [-8, -9]\n", 1)
    with pytest.raises(InstrumentError, match="item 'kind': ordered must be true or false"):
        load_instrument(_write(tmp_path, text))


STRUCTURAL = [
    ("sections as a list", 'sections:\n  A: {title_de: "Teil A", title_en: "Part A"}',
     'sections:\n  - A', "sections: sections must be a mapping (key: value), got a list"),
    ("a scalar section", 'A: {title_de: "Teil A", title_en: "Part A"}', "A: 5",
     "section A: must be a mapping {title_de, title_en}, got the number 5"),
    ("meta as a list", 'meta: {title_de: "Mini", title_en: "Mini"}', "meta: [a, b]",
     "meta: meta must be a mapping (key: value), got a list"),
    ("metadata as a scalar", "metadata:\n  - {var: response_id, type: id, text_de: \"ID\", text_en: \"ID\"}",
     "metadata: 5", "metadata: must be a list of columns, got the number 5"),
    ("items as a mapping", "items:\n  - var: kind", "items:\n  x: 1\nfoo:\n  - var: kind",
     "items: must be a non-empty list"),
    ("an item that is a number", "items:\n  - var: kind", "items:\n  - 5\n  - var: kind",
     "items[1]: missing 'var'"),
    ("validation as a list", "validation: {min: 0, max: 10}", "validation: [0, 10]",
     "item 'count': validation must be a mapping"),
    ("missing codes as a list", "missing_codes:\n", "missing_codes: [1]\nx:\n",
     "missing_codes: must map -7, -8 and -9 to {name, label_de, label_en}"),
    ("format as text", "instrument:", "format: 'two'\ninstrument:",
     "format: must be 1 or 2 (the rules the file follows), got 'two'"),
]


@pytest.mark.parametrize("case", STRUCTURAL, ids=[c[0] for c in STRUCTURAL])
def test_structural_mistakes_are_one_line_errors(tmp_path, case):
    _, old, new, expected = case
    assert old in MINI, old
    path = _write(tmp_path, MINI.replace(old, new, 1))
    with pytest.raises(InstrumentError) as err:
        load_instrument(path)
    assert _one_line_error(err, path) == f"{path}: {expected}"


@pytest.mark.parametrize("tail, expected", [
    ("derived: 5\n", "derived: must be a list of derived variables, got the number 5"),
    ("derived: {a: 1}\n", "derived: must be a list of derived variables, got a mapping"),
    ("rules: 5\n", "rules: must be a list of rules, got the number 5"),
    ("hypotheses: [a]\n", "hypotheses: hypotheses must be a mapping (key: value), got a list"),
])
def test_top_level_sections_of_the_wrong_kind(tmp_path, tail, expected):
    path = _write(tmp_path, MINI + tail)
    with pytest.raises(InstrumentError) as err:
        load_instrument(path)
    assert _one_line_error(err, path) == f"{path}: {expected}"


def test_population_file_goes_through_the_same_loader(tmp_path):
    path = _write(tmp_path, _laughs(), "margins.yaml")
    with pytest.raises(PopulationMarginsError, match="alias bomb"):
        load_population_margins(path=path)
    path = _write(tmp_path, "- 1\n", "list.yaml")
    with pytest.raises(PopulationMarginsError, match="must be a YAML mapping"):
        load_population_margins(path=path)


def test_cli_refuses_a_bomb_with_one_line_and_exit_2(tmp_path):
    bomb = MINI.replace('meta: {title_de: "Mini", title_en: "Mini"}',
                        'meta:\n  title_de: "Mini"\n  title_en: "Mini"\n'
                        + textwrap.indent(_laughs(), "  "))
    path = _write(tmp_path, bomb)
    out = tmp_path / "cb.md"
    proc = subprocess.run([sys.executable, "-m", "surveydata", "codebook", "--instrument", str(path),
                           "--out", str(out)], check=False, capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "alias bomb" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_budget_message_is_not_wrapped_twice():
    with pytest.raises(DeclarationError) as err:
        load_yaml(_laughs(), source="bomb.yaml")
    assert str(err.value).startswith("bomb.yaml: line ") and str(err.value).count("bomb.yaml") == 1


@pytest.mark.parametrize("old, new", [
    ("    section: A\n    type: integer", "    section: {A: 1}\n    type: integer"),
    ("    section: A\n    type: integer", "    section: [A]\n    type: integer"),
])
def test_unhashable_values_are_one_line_errors(tmp_path, old, new):
    path = _write(tmp_path, MINI.replace(old, new, 1))
    with pytest.raises(InstrumentError) as err:
        load_instrument(path)
    assert "item 'count': unknown section" in _one_line_error(err, path)


def test_mutated_instruments_raise_only_declaration_errors():
    """Random line deletions, duplications and value swaps in a format-2 instrument: every
    outcome is an instrument or a one-line DeclarationError, never another exception."""
    import random

    from schemas import parse_instrument

    text = (ROOT / "schemas/instruments/pharmacy_staff.yaml").read_text(encoding="utf-8")
    rng = random.Random(7)
    tokens = ["5", "[]", "{}", "'no'", "yes", "-1", "97", "null", "[1, 2]", "{a: 1}", "x", "1.5",
              "2020-01-01", "true", "''"]
    for _ in range(120):
        lines = text.split("\n")
        for _ in range(rng.randint(1, 3)):
            j = rng.randrange(len(lines))
            if rng.random() < 0.3:
                del lines[j]
            elif ":" in lines[j]:
                lines[j] = lines[j].partition(":")[0] + ": " + rng.choice(tokens)
            else:
                lines.insert(j, lines[rng.randrange(len(lines))])
        try:
            parse_instrument("\n".join(lines), source="m.yaml")
        except DeclarationError as err:
            assert "\n" not in str(err)

"""The safe condition grammar of ask_if and cross-item rules."""

import doctest

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas.conditions
from schemas.conditions import ConditionError, parse_condition


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "a": pd.array([1, 2, None, -9, 5], dtype="Int64"),
            "b": pd.array([1, 3, 3, 1, 4], dtype="Int64"),
            "state": pd.Series(["BW", "BE", "NI", "TH", "BB"], dtype="str"),
            "m__none": pd.array([1, 0, -7, -9, 0], dtype="Int64"),
        }
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a == 1", [True, False, False, False, False]),
        ("a != 1", [False, True, False, True, True]),  # NA is unknown, so not "true"
        ("a < 2", [True, False, False, True, False]),
        ("a <= 2", [True, True, False, True, False]),
        ("a > 2", [False, False, False, False, True]),
        ("a >= 2", [False, True, False, False, True]),
        ("a in [1, 5]", [True, False, False, False, True]),
        ("a not in [1, 5]", [False, True, False, True, False]),
        ("a in [-9]", [False, False, False, True, False]),
        ("state in ['BE', \"TH\"]", [False, True, False, True, False]),
        ("state == 'BW'", [True, False, False, False, False]),
        ("a <= b", [True, True, False, True, False]),
        ("2 < b", [False, True, True, False, True]),
        ("a == 1 or b == 3", [True, True, True, False, False]),
        ("a == 1 and b == 1", [True, False, False, False, False]),
        ("not a == 1", [False, True, False, True, True]),
        ("not (a == 1 or b == 4)", [False, True, False, True, False]),
        ("a == 2 or a == 5 and b == 1", [False, True, False, False, False]),  # and binds tighter
        ("(a == 2 or a == 5) and b == 4", [False, False, False, False, True]),
        ("m__none != 1", [False, True, True, True, True]),
        ("'none' in m", [True, False, False, False, False]),
        ("'none' not in m", [False, True, True, True, True]),
    ],
)
def test_evaluate(frame, text, expected):
    assert parse_condition(text).evaluate(frame).tolist() == expected


def test_unknown_is_false_under_kleene_logic(frame):
    # a is NA in row 2: "a == 1 or b == 3" is true there (b decides), "a == 1 and b == 3" unknown.
    assert parse_condition("a == 1 or b == 3").evaluate(frame).iloc[2]
    assert not parse_condition("a == 1 and b == 3").evaluate(frame).iloc[2]
    assert not parse_condition("not (a == 1 and b == 3)").evaluate(frame).iloc[2]


def test_result_keeps_index_and_is_plain_bool(frame):
    frame.index = [10, 11, 12, 13, 14]
    out = parse_condition("a == 1").evaluate(frame)
    assert out.dtype == bool
    assert out.index.tolist() == [10, 11, 12, 13, 14]


def test_variables_in_order_of_appearance():
    cond = parse_condition("(b in [1, 2] or a >= 3) and not b == 1 and 'x' in multi")
    assert cond.variables == ("b", "a", "multi__x")
    assert cond.literals() == {"b": (1, 2, 1), "a": (3,), "multi__x": (1,)}


def test_whitespace_is_normalised_in_text():
    assert parse_condition("a  ==\n 1").text == "a == 1"


def test_missing_column_is_a_clear_key_error(frame):
    with pytest.raises(
        KeyError, match="condition refers to column 'zz', which the frame does not have"
    ):
        parse_condition("zz == 1").evaluate(frame)


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os')", "names starting with '_' are not allowed: '__import__' at position 0"),
        ("a.__class__ == 1", "attribute access ('.') is not allowed at position 1"),
        ("os.system('x') == 1", "attribute access ('.') is not allowed at position 2"),
        ("len(a) == 1", "function calls are not allowed: 'len' at position 0"),
        ("a == open('f')", "function calls are not allowed: 'open' at position 5"),
        ("a = 1", "'=' is not a comparison (use '==') at position 2"),
        ("a + 1 == 2", "unexpected character '+' at position 2"),
        ("a -1 == 2", "arithmetic is not allowed at position 2"),
        ("a == 'x", "unterminated string at position 5"),
        ("a == 1; b == 2", "unexpected character ';' at position 6"),
        ("lambda: 1", "unexpected character ':' at position 6"),
        ("", "empty condition at end of condition"),
        ("a", "expected a comparison operator or 'in', found nothing at end of condition"),
        ("a ==", "expected a variable or a literal, found nothing at end of condition"),
        ("a == 1 or", "expected a variable or a literal, found nothing at end of condition"),
        ("1 == 1", "a comparison needs at least one variable at position 2"),
        ("a in 1", "expected '[', found '1' at position 5"),
        ("a in []", "expected a number or a quoted string, found ']' at position 6"),
        ("(a == 1", "expected ')', found nothing at end of condition"),
        ("a == 1)", "unexpected ')' at position 6"),
        (
            "3 in m",
            "only a quoted option name can be tested with 'in <multi-choice item>' at position 5",
        ),
        ("a == 1 and and b == 2", "expected a variable or a literal, found 'and' at position 11"),
    ],
)
def test_rejects_with_exact_message(text, message):
    with pytest.raises(ConditionError) as err:
        parse_condition(text)
    assert str(err.value) == f"cannot parse condition {text!r}: {message}"


def test_non_string_is_rejected():
    with pytest.raises(ConditionError, match="a condition must be a string, got int: 3"):
        parse_condition(3)


def test_never_evaluates_python(frame, monkeypatch):
    # The grammar must not reach Python's eval: make eval explode and parse/evaluate anyway.
    import builtins

    def boom(*args, **kwargs):
        raise AssertionError("eval was called")

    monkeypatch.setattr(builtins, "eval", boom)
    assert parse_condition("a in [1, 2] and state == 'BW'").evaluate(frame).tolist() == [
        True,
        False,
        False,
        False,
        False,
    ]


def test_docstring_examples():
    result = doctest.testmod(schemas.conditions, optionflags=doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------- property test
# Random conditions are written as text, parsed, evaluated column-wise, and compared with a
# plain row-by-row three-valued interpreter written independently here.


_INT_VALUES = [-9, -8, -7, 0, 1, 2, 3, None]
_STR_VALUES = ["BW", "BE", "SN", None]
_OPS = ["==", "!=", "<", "<=", ">", ">="]


def _leaf():
    int_cmp = st.tuples(
        st.just("cmp"),
        st.sampled_from(["a", "b"]),
        st.sampled_from(_OPS),
        st.sampled_from([-9, -7, 0, 1, 2, 3]),
    )
    var_cmp = st.tuples(st.just("cmpvar"), st.just("a"), st.sampled_from(_OPS), st.just("b"))
    in_list = st.tuples(
        st.just("in"),
        st.sampled_from(["a", "b"]),
        st.booleans(),
        st.lists(st.sampled_from([-9, -8, 1, 2, 3]), min_size=1, max_size=3),
    )
    str_in = st.tuples(
        st.just("in"),
        st.just("s"),
        st.booleans(),
        st.lists(st.sampled_from(["BW", "BE", "TH"]), min_size=1, max_size=2),
    )
    return st.one_of(int_cmp, var_cmp, in_list, str_in)


_TREES = st.recursive(
    _leaf(),
    lambda kids: st.one_of(
        st.tuples(st.just("not"), kids),
        st.tuples(st.sampled_from(["and", "or"]), kids, kids),
    ),
    max_leaves=8,
)


def _text(node) -> str:
    kind = node[0]
    if kind == "cmp":
        return f"{node[1]} {node[2]} {node[3]}"
    if kind == "cmpvar":
        return f"{node[1]} {node[2]} {node[3]}"
    if kind == "in":
        values = ", ".join(repr(v) for v in node[3])
        return f"{node[1]} {'not in' if node[2] else 'in'} [{values}]"
    if kind == "not":
        return f"not ({_text(node[1])})"
    return f"({_text(node[1])}) {kind} ({_text(node[2])})"


def _row(node, row):
    """Kleene logic with None as unknown."""
    kind = node[0]
    if kind in ("cmp", "cmpvar"):
        left = row[node[1]]
        right = row[node[3]] if kind == "cmpvar" else node[3]
        if left is None or right is None:
            return None
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[node[2]]
    if kind == "in":
        v = row[node[1]]
        if v is None:
            return None
        return (v not in node[3]) if node[2] else (v in node[3])
    if kind == "not":
        x = _row(node[1], row)
        return None if x is None else not x
    x, y = _row(node[1], row), _row(node[2], row)
    if kind == "and":
        if x is False or y is False:
            return False
        return None if x is None or y is None else True
    if x is True or y is True:
        return True
    return None if x is None or y is None else False


@settings(max_examples=200, deadline=None)
@given(
    tree=_TREES,
    rows=st.lists(
        st.tuples(
            st.sampled_from(_INT_VALUES), st.sampled_from(_INT_VALUES), st.sampled_from(_STR_VALUES)
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_evaluate_matches_a_row_by_row_interpreter(tree, rows):
    frame = pd.DataFrame(
        {
            "a": pd.array([r[0] for r in rows], dtype="Int64"),
            "b": pd.array([r[1] for r in rows], dtype="Int64"),
            "s": pd.Series([r[2] for r in rows], dtype="str"),
        }
    )
    cond = parse_condition(_text(tree))
    expected = [_row(tree, {"a": r[0], "b": r[1], "s": r[2]}) is True for r in rows]
    assert cond.evaluate(frame).tolist() == expected
    # the normalised text parses to the same tree
    assert parse_condition(cond.text).tree == cond.tree


@pytest.mark.parametrize("text", [
    "(" * 5000 + "x == 1" + ")" * 5000,
    "not " * 5000 + "x == 1",
    "(not " * 3000 + "x == 1" + ")" * 3000,
])
def test_deep_nesting_is_a_condition_error_not_a_recursion_error(text):
    with pytest.raises(ConditionError) as err:
        parse_condition(text)
    message = str(err.value)
    assert "nested deeper than 100 levels" in message
    assert "\n" not in message and len(message) < 250  # the text is shortened in the message


def test_nesting_up_to_the_limit_parses():
    cond = parse_condition("(" * 100 + "x == 1" + ")" * 100)
    assert cond.evaluate(pd.DataFrame({"x": [1, 2]})).tolist() == [True, False]
    assert parse_condition("not " * 100 + "x == 1").variables == ("x",)

"""The codebook: complete, in both languages, in Markdown and self-contained HTML."""

import doctest
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import schemas
import schemas.codebooks
from schemas import codebook, load_instrument

INST = load_instrument()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_markdown_lists_every_variable_code_and_label(lang):
    md = codebook(INST, lang=lang)
    for item in INST.items:
        assert f"### `{item.var}` (" in md, item.var
        assert item.text.get(lang).replace("|", "\\|") in md
        for code, label in item.codes.items():
            if item.type == "multi":
                assert f"| `{item.var}__{code}` | {label.get(lang)} |" in md
            else:
                assert f"| `{code}` | {label.get(lang)} |" in md
    for m in INST.metadata:
        assert f"| `{m.var}` | {m.type} |" in md
    for rule in INST.rules:
        assert f"| `{rule.id}` |" in md
    for d in INST.derived:
        assert f"| `{d.var}` |" in md


def test_item_block_exact_english():
    md = codebook(INST, lang="en")
    start = md.index("### `tm_backup_offline`")
    block = md[start : md.index("###", start + 3)]
    assert block == (
        "### `tm_backup_offline` (single)\n\n"
        "Is at least one backup kept separate from the practice network (offline or off-site)?\n\n"
        "- Asked if: `tm_backup_plan in [1, 2]` (otherwise -7)\n"
        "- Missing codes accepted: `-8` Don't know, `-9` No answer\n"
        "- Automatic checks: `codes:tm_backup_offline`, `skip_not_asked:tm_backup_offline`, "
        "`skip_asked:tm_backup_offline`\n\n"
        "| Code | Label |\n|---|---|\n"
        "| `1` | Yes, fully |\n| `2` | Partly |\n| `3` | No |\n| `-8` | Don't know |\n\n"
    )


def test_item_block_german_multi_and_integer():
    md = codebook(INST, lang="de")
    assert "- Höchstens auszuwählen: 3" in md
    assert "| `info_needs__none` | Kein Bedarf | ausschließend |" in md
    assert "- Wertebereich: 1–1000" in md
    assert "- Zulässige fehlende Werte: keine (Pflichtangabe)" in md
    assert "## Abschnitt F: Sicherheitsvorfälle" in md
    assert "| `-7` | not_applicable | Trifft nicht zu (Filter) |" in md


def test_markdown_escapes_table_pipes():
    text = codebook(INST, lang="en")
    # the rule 'info_source_main_ticked' has 'or' conditions but no pipes; a label with a
    # pipe would break the table: every table row must have the header's number of cells
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith("| "):
            n = len(re.split(r"(?<!\\)\|", lines[0]))
            assert all(len(re.split(r"(?<!\\)\|", line)) == n for line in lines), lines[0]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.external, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta",):
            self.stack.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):  # not in-page links
                self.external.append(value)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack[-3:], tag)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_well_formed_self_contained_and_escaped():
    page = codebook(INST, lang="en", fmt="html")
    parser = _Collect()
    parser.feed(page)
    assert parser.stack == []
    assert parser.external == []  # opens offline
    text = "".join(parser.text)
    assert "Large practice (>20 / large devices / substantial data processing)" in text
    assert "&gt;20" in page  # escaped in the source
    assert "<code>practice_type in [2, 5]</code>" in page
    assert '<html lang="en">' in page


def test_deterministic_and_argument_checks():
    assert codebook(INST, "de", "html") == codebook(INST, "de", "html")
    with pytest.raises(ValueError, match="fmt must be 'md' or 'html', got 'pdf'"):
        codebook(INST, fmt="pdf")
    with pytest.raises(ValueError, match="lang must be 'de' or 'en', got 'fr'"):
        codebook(INST, lang="fr")


def test_docstring_examples():
    result = doctest.testmod(schemas.codebooks)
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------- a study's codebook

PHARMACY = schemas.load_study("pharmacy_staff")


def _section(md: str, heading: str) -> str:
    start = md.index(f"## {heading}\n")
    end = md.find("\n## ", start + 3)
    return md[start:] if end < 0 else md[start:end]


@pytest.mark.parametrize("study", [schemas.load_study(None), PHARMACY], ids=lambda s: s.name)
def test_a_studys_codebook_lists_every_analysis_variable_of_the_study(study):
    for lang, heading in (("en", "Analysis variables of the study"), ("de", "Analysevariablen der Studie")):
        section = _section(codebook(study, lang=lang), heading)
        own = [d for d in study.derived if d.origin == "study"]
        assert own
        for d in own:
            short = getattr(d, "short_label", None)
            differs = short is not None and short.get(lang) != d.label.get(lang)
            shown = d.label.get(lang) + (f" ({short.get(lang)})" if differs else "")
            assert f"| `{d.var}` | {shown} |" in section, d.var
        # the instrument's own derived variables stay in the instrument's table, not here
        for d in study.derived:
            if d.origin == "instrument":
                assert f"| `{d.var}` |" not in section


def test_analysis_variable_rows_give_definition_type_and_range():
    section = _section(codebook(PHARMACY, lang="en"), "Analysis variables of the study")
    rows = {line.split(" | ")[0][3:-1]: line for line in section.splitlines() if line.startswith("| `")}
    assert rows["trained_yes"] == (
        "| `trained_yes` | Ever trained | 1 where the answer is one of the codes, else 0; missing "
        "when not answered | `indicator: trained, codes: [1]` | number | 0–1 |")
    assert rows["full_time"].endswith(
        "1 where the condition holds, else 0; missing when an item it reads is not answered | "
        "`indicator: weekly_hours >= 35` | number | 0–1 |")
    # mean over a 1..7 grid: the score stays within the points; n_ticked: options but `none`
    assert rows["climate_score"].endswith("min_valid: 3` | number | 1–7 |")
    options = [o.code for o in PHARMACY.instrument.item("devices_used").options]
    assert rows["n_devices"].endswith(f"| integer | 0–{len(options) - 1} |") and "none" in options
    assert rows["experience"].endswith(
        "| single | `1` under 5 years; `2` 5 to under 15 years; `3` 15 years or more |")
    assert rows["it_share"].endswith("| number | not bounded by the definition |")


def test_scales_are_listed_with_items_and_how_reliability_is_computed_without_data():
    section = _section(codebook(PHARMACY, lang="en"), "Scales and reliability")
    assert "### `climate_score`: Security climate (mean 1–7)" in section
    assert "- Score: mean of the valid answers, at least 3 of 4 answers" in section
    assert "when the codebook is built with data (surveydata codebook --data EXPORT)" in section
    reversed_ = [i.var for i in PHARMACY.instrument.items if i.grid == "climate" and i.reverse]
    assert reversed_
    for item in PHARMACY.instrument.items:
        if item.grid == "climate":
            mark = " (reverse-keyed)" if item.var in reversed_ else ""
            assert f"| `{item.var}` | {item.text.get('en')}{mark} |" in section
    assert "Reliability:" not in section


def test_reliability_numbers_handed_in_are_printed_in_the_editions_locale():
    numbers = {"climate_score": {"alpha": (0.8123, 0.7861, 0.8385), "omega": (0.8249, 0.801, 0.849),
                                 "n": 1234, "weighted": True}}
    en = _section(codebook(PHARMACY, "en", reliability=numbers), "Scales and reliability")
    assert ("- Reliability: Cronbach's alpha 0.81 (95% CI 0.79–0.84), McDonald's omega 0.82 "
            "(95% CI 0.80–0.85); computed on 1,234 respondents with every item (weighted)") in en
    assert "built with data" not in en
    de = _section(codebook(PHARMACY, "de", reliability=numbers), "Skalen und Reliabilität")
    assert ("Cronbachs Alpha 0,81 (95-%-KI 0,79–0,84), McDonalds Omega 0,82 (95-%-KI 0,80–0,85); "
            "berechnet auf 1.234 Befragten mit allen Items (gewichtet)") in de
    failed = codebook(PHARMACY, "en", reliability={"climate_score": {"error": "an item has no variation"}})
    assert "- Reliability: not computable: an item has no variation" in failed


def test_a_study_without_scales_says_so_and_the_instrument_codebook_is_unchanged():
    practice = schemas.load_study(None)
    assert "The study declares no multi-item scale." in codebook(practice, "en")
    # the instrument's codebook is the study's without the study's sections
    inst_md = codebook(INST, "en")
    assert "## Analysis variables" not in inst_md and "## Scales" not in inst_md
    study_md = codebook(practice, "en")
    assert study_md.startswith(inst_md.splitlines()[0])
    assert study_md.index("## Missing codes") > 0


def test_scales_of_a_study_follow_the_declaration():
    from schemas.multi_item import multi_item_scales

    vet = schemas.load_study(Path(__file__).resolve().parents[1] / "data" / "own_survey" / "vet_study.yaml")
    (score,) = multi_item_scales(vet)
    assert (score.name, score.how, score.min_valid) == ("security_score", "mean", 3)
    # reverse-keyed in the instrument: reversed by derive, so reversed for the reliability too
    assert score.reverse == tuple(v for v in score.items if vet.instrument.item(v).reverse) != ()
    # an instrument alone has no scores: its grid is the scale
    (grid,) = multi_item_scales(PHARMACY.instrument)
    assert grid.how == "grid" and grid.name == "climate" and grid.reverse == ("climate_time_pressure",)
    assert multi_item_scales(schemas.load_study(None)) == []


def test_schemas_stays_free_of_data_and_analysis_imports():
    import ast

    for module in (schemas.codebooks, __import__("schemas.multi_item", fromlist=["x"])):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {n for n in names if n.split(".")[0] in ("analysis", "surveydata", "pandas")}, names


def test_multi_item_docstring_examples():
    import schemas.multi_item

    result = doctest.testmod(schemas.multi_item)
    assert result.failed == 0 and result.attempted > 0


def test_declarations_are_marked_as_code_in_a_german_page():
    """The declaration's keywords are English (`indicator`, `codes`, `and`): in the German
    codebook the cell says so (lang="en"), the words beside it are German."""
    page = codebook(PHARMACY, "de", "html")
    assert ('<td>1, wenn die Antwort einer der Codes ist, sonst 0; fehlend ohne Antwort</td>'
            '<td lang="en"><code>indicator: trained, codes: [1]</code></td>') in page


def test_a_negative_bound_has_a_minus_sign_not_a_hyphen():
    numbers = {"climate_score": {"alpha": (0.1, -0.05, 0.3), "n": 40, "weighted": False}}
    assert "Cronbach's alpha 0.10 (95% CI \u22120.05–0.30); computed on 40" in codebook(PHARMACY, "en", reliability=numbers)

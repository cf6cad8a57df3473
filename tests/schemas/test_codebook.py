"""The codebook: complete, in both languages, in Markdown and self-contained HTML."""

import doctest
import re
from html.parser import HTMLParser

import pytest

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

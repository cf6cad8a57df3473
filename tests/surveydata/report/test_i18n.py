"""The report's own words: every label in both languages, the fields each template fills the
same in both, and German and English numbers written the way each edition writes them."""
import re
import string

import pytest

from surveydata.report import i18n, plots
from surveydata.report.html import Table, _cell_value


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_label_exists_in_both_languages_with_the_same_fields():
    for key, texts in i18n._LABELS.items():
        assert set(texts) == set(i18n.LANGS), key
        assert all(texts[lang].strip() for lang in i18n.LANGS), key
        assert _fields(texts["de"]) == _fields(texts["en"]), key


def test_german_labels_are_german_and_english_labels_english():
    # a label copied untranslated would show one edition's words in the other
    same = {k for k, v in i18n._LABELS.items() if v["de"] == v["en"]}
    # words that are the same in German and English
    assert same <= {"user_data", "n", "term", "block", "downloads", "status", "software", "version"}


def test_an_unknown_label_or_language_is_refused_with_the_choices():
    with pytest.raises(KeyError, match="known labels"):
        i18n.t("no_such_label", "en")
    with pytest.raises(ValueError, match="not supported"):
        i18n.t("table", "fr")


@pytest.mark.parametrize(("lang", "count", "decimal"), [("de", "1.621", "33,3"), ("en", "1,621", "33.3")])
def test_numbers_are_written_in_the_locale_of_the_edition(lang, count, decimal):
    assert plots.fmt_number(1621, lang, 0) == count
    assert plots.fmt_number(33.333, lang, 1) == decimal
    # and read back as numbers in the edition's spreadsheet, never as text
    assert _cell_value(count, lang) == 1621
    assert _cell_value(decimal, lang) == pytest.approx(33.3)
    assert _cell_value("29,3–33,2" if lang == "de" else "29.3–33.2", lang) in ("29,3–33,2", "29.3–33.2")


def test_table_csv_is_as_shown_and_safe_for_spreadsheets():
    tab = Table(1, "Caption", ["", "n"], [["=SUM(A1)", "1.621"]], 1)
    de = tab.csv_bytes("de").decode("utf-8-sig").splitlines()
    assert de == ["Zeile;n", "'=SUM(A1);1.621"]
    en = tab.csv_bytes("en").decode("utf-8-sig").splitlines()
    assert en[0] == "Row,n" and re.match(r"^'=SUM\(A1\),1\.621$", en[1])


def test_the_simulated_banner_names_no_unit_of_a_particular_study():
    # QA F4: a simulated study of nurses said "describes no real practice"
    assert i18n.t("simulated_banner", "en").endswith("describes no real respondents.")
    assert i18n.t("simulated_banner", "de").endswith("beschreiben keine echten Befragten.")

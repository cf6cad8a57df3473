"""The report's own words: every label in both languages, the fields each template fills the
same in both, and German and English numbers written the way each edition writes them."""
import re
import string
from pathlib import Path

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


# ---------------------------------------------------------------------------------------------
# names of variables come from the study's declaration, not from a dict in the report code

#: The short names the practice report published before they moved into its declaration (the
#: dict surveydata/report/i18n.py held): the declaration must give the same words.
PUBLISHED_SHORT_NAMES = {
    "tm_antivirus_full": ("Virenschutz aktuell", "Up-to-date antivirus"),
    "tm_patching_full": ("Updates zeitnah", "Timely patching"),
    "tm_backup_plan_full": ("Datensicherung nach Plan", "Backups by a plan"),
    "tm_backup_offline_full": ("Offline-Sicherung", "Offline backup copy"),
    "tm_restore_test_full": ("Wiederherstellung getestet", "Restore tested"),
    "tm_firewall_full": ("Firewall", "Firewall"),
    "tm_disk_encryption_full": ("Festplattenverschlüsselung", "Disk encryption"),
    "tm_individual_accounts_full": ("Persönliche Konten", "Individual accounts"),
    "tm_mfa_full": ("Mehr-Faktor-Anmeldung", "Multi-factor login"),
    "tm_network_segmentation_full": ("Netzsegmentierung", "Network segmentation"),
    "tm_admin_rights_restricted_full": ("Adminrechte beschränkt", "Admin rights restricted"),
    "tm_mobile_lockcode_full": ("Sperrcode Mobilgeräte", "Mobile lock code"),
    "it_responsible": ("IT-Sicherheit verantwortlich benannt", "IT security lead named"),
    "training_all": ("Schulung aller Mitarbeitenden", "All staff trained"),
    "emergency_plan_yes": ("Notfallplan vorhanden", "Emergency plan"),
    "guideline_known": ("Richtlinie gut bekannt", "Guideline known well"),
    "guideline_full": ("Richtlinie vollständig umgesetzt", "Guideline fully implemented"),
    "cyber_insurance_yes": ("Cyberversicherung", "Cyber insurance"),
    "provider_certified": ("Dienstleister zertifiziert", "Certified IT provider"),
    "unsupported_os_yes": ("Veraltetes Betriebssystem", "Unsupported operating system"),
    "incident_12m_yes": ("Vorfall (12 Monate)", "Incident (12 months)"),
    "incident_ever_yes": ("Vorfall (jemals)", "Incident (ever)"),
    "tech_share": ("Anteil technischer Maßnahmen", "Share of technical measures"),
    "tech_index": ("Technische Maßnahmen (Anzahl)", "Technical measures (count)"),
    "org_index": ("Organisatorische Maßnahmen (Index)", "Organisational measures (index)"),
    "n_info_sources": ("Zahl der Informationsquellen", "Number of information sources"),
    "info_sufficient_score": ("Gut informiert (1–5)", "Well informed (1–5)"),
    "guideline_understandable_score": ("Richtlinie verständlich (1–5)", "Guideline understandable (1–5)"),
    "kbv_size_class": ("Größenklasse", "Size class"),
    "practice_type": ("Versorgungsbereich", "Practice type"),
    "it_support_model": ("IT-Betreuung", "IT support"),
    "practice_form": ("Organisationsform", "Practice form"),
    "federal_state": ("Bundesland", "Federal state"),
}


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_practice_study_declares_the_short_names_its_report_published(lang):
    import schemas

    study = schemas.load_study(None)
    pos = 0 if lang == "de" else 1
    for var, names in PUBLISHED_SHORT_NAMES.items():
        assert i18n.var_label(var, lang, study) == names[pos], var
        assert i18n.var_label(var, lang) == names[pos], var  # no study: the packaged default
    level = "Psychotherapy"
    assert i18n.term_label(f"C(practice_type)[T.{level}]", lang) == f"{PUBLISHED_SHORT_NAMES['practice_type'][pos]}: {level}"


def test_the_report_code_holds_no_names_of_variables():
    assert not hasattr(i18n, "VARIABLES")


def _own_study(tmp_path, short: str | None):
    """The own-survey fixture with a short_label on one item and one derived variable."""
    import shutil

    import schemas

    src = Path(__file__).resolve().parents[2] / "data" / "own_survey"
    for name in ("vet_it.yaml", "vet_study.yaml"):
        shutil.copy(src / name, tmp_path / name)
    if short is not None:
        inst = (tmp_path / "vet_it.yaml").read_text(encoding="utf-8")
        marker = '    text_en: "When did you last test restoring a backup?"\n'
        assert marker in inst
        inst = inst.replace(marker, marker + f"    short_label: {short}\n")
        (tmp_path / "vet_it.yaml").write_text(inst, encoding="utf-8")
    return schemas.load_study(tmp_path / "vet_study.yaml")


def test_any_study_names_its_variables_from_its_declaration(tmp_path):
    plain = _own_study(tmp_path, None)
    item = plain.instrument.item("last_restore_test")
    # no short_label: the label (derived variable) or the question text (item), then the name
    derived = next(d for d in plain.derived if d.var == "incident_yes")
    assert i18n.var_label("incident_yes", "de", plain) == derived.label.get("de")
    assert i18n.var_label("last_restore_test", "en", plain) == item.text.get("en")
    assert i18n.var_label("no_such_variable", "en", plain) == "no_such_variable"
    # a short_label in the instrument wins, in each language
    short = _own_study(tmp_path, '{de: "Letzter Wiederherstellungstest", en: "Last restore test"}')
    assert i18n.var_label("last_restore_test", "de", short) == "Letzter Wiederherstellungstest"
    assert i18n.term_label("last_restore_test", "en", short) == "Last restore test"
    # the report's data stand for their study
    class Data:
        study = short
    assert i18n.var_label("last_restore_test", "en", Data()) == "Last restore test"


def test_the_simulated_banner_names_no_unit_of_a_particular_study():
    # QA F4: a simulated study of nurses said "describes no real practice"
    assert i18n.t("simulated_banner", "en").endswith("describes no real respondents.")
    assert i18n.t("simulated_banner", "de").endswith("beschreiben keine echten Befragten.")

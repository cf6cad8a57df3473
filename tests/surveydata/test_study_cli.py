"""The shared command-line options (surveydata.commands._common): which study, which language."""

import argparse
import contextlib
import io

import pytest
import yaml

import schemas
from surveydata.commands._common import add_study_options, study_from_args


def parse(argv, lang_default=None):
    p = argparse.ArgumentParser(prog="x")
    add_study_options(p, lang_default=lang_default)
    return p.parse_args(argv)


def test_default_is_the_packaged_study_in_the_commands_language():
    args = parse([], lang_default="de")
    assert study_from_args(args).name == "practice_security" and args.lang == "de"
    args = parse([])  # no command default: the study's first language
    study_from_args(args)
    assert args.lang == "en"


def test_instrument_alone_and_packaged_study_names():
    args = parse(["--instrument", "pharmacy_staff", "--lang", "de"])
    study = study_from_args(args)
    assert study.instrument.name == "pharmacy_staff" and not study.weighted and args.lang == "de"
    assert study_from_args(parse(["--study", "pharmacy_staff"])).design is not None


def test_a_language_the_study_lacks_is_one_line(tmp_path):
    path = tmp_path / "de_only.yaml"
    path.write_text(yaml.safe_dump({"format": 1, "study": {
        "name": "de_only", "title": "Nur deutsch", "instrument": "practice_security",
        "languages": ["de"]}}))
    args = parse(["--study", str(path)], lang_default="en")
    study_from_args(args)
    assert args.lang == "de"  # the command's default is not offered: the study's first
    with pytest.raises(schemas.StudyError) as err:
        study_from_args(parse(["--study", str(path), "--lang", "en"]))
    assert str(err.value) == (f"{path}: --lang en: the study has texts in de only; choose one "
                              "of them")


def test_study_and_instrument_exclude_each_other():
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exit_:
        parse(["--study", "a.yaml", "--instrument", "b.yaml"])
    assert exit_.value.code == 2 and "not allowed with argument" in stderr.getvalue()


def test_every_command_takes_the_shared_options():
    from surveydata.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices
    for name in ("validate", "codebook", "simulate", "report"):
        options = {o for a in sub[name]._actions for o in a.option_strings}
        assert {"--study", "--instrument", "--lang"} <= options, name

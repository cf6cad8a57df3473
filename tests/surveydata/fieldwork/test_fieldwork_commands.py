"""invite -> (respond) -> fieldwork -> export -> validate, through the command line."""
from __future__ import annotations

import csv
import os

from starlette.testclient import TestClient

from surveydata.cli import main
from surveydata.fieldwork.store import Store
from surveydata.fieldwork.study import load
from surveydata.fieldwork.web import create_app

from .fw_helpers import complete


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_invite_respond_monitor_export_validate(tmp_path, capsys):
    frame = tmp_path / "frame.csv"
    frame.write_text("unit_id,practice_type,federal_state,N_h\n"
                     "P1,1,BY,500\nP2,1,BY,500\nP3,3,BE,80\nP4,4,NW,900\n", encoding="utf-8")
    db = tmp_path / "fw.sqlite"
    out = tmp_path / "inv"
    assert main(["invite", "--frame", str(frame), "--out", str(out), "--db", str(db),
                 "--base-url", "https://survey.example.org"]) == 0
    inv = _rows(out / "invitations.csv")
    assert [r["unit_id"] for r in inv] == ["P1", "P2", "P3", "P4"]
    assert all(r["url"] == f"https://survey.example.org/t/{r['token']}" for r in inv)
    assert len({r["token"] for r in inv}) == 4
    assert oct(os.stat(out / "invitations.csv").st_mode & 0o777) == "0o600"
    letters = sorted((out / "letters").iterdir())
    assert len(letters) == 4 and inv[0]["token"] in letters[0].read_text()
    # invite refuses to overwrite tokens or to invite a unit twice
    assert main(["invite", "--frame", str(frame), "--out", str(out), "--db", str(db)]) == 2
    assert main(["invite", "--frame", str(frame), "--out", str(tmp_path / "x"),
                 "--db", str(db)]) == 2
    assert "already invited: P1" in capsys.readouterr().err

    study = load(None)
    store = Store(f"sqlite:///{db}")
    app = create_app(study, store.url, store=store, admin_hash="")
    with TestClient(app) as c:
        given = complete(c, study.instrument, inv[0]["token"])
    with TestClient(app) as c:
        complete(c, study.instrument, inv[2]["token"], pages=2)  # broken off after page 2

    capsys.readouterr()
    rem = tmp_path / "reminders.csv"
    assert main(["fieldwork", "--db", str(db), "--reminders", str(rem),
                 "--invitations", str(out / "invitations.csv")]) == 0
    text = capsys.readouterr().out
    line1 = next(ln for ln in text.splitlines() if ln.startswith("1 "))
    assert line1.split()[:6] == ["1", "2", "1", "1", "0", "50.0%"]
    assert "broken off after page: A2 (1)" in text
    assert [r["unit_id"] for r in _rows(rem)] == ["P2", "P3", "P4"]

    exp = tmp_path / "export"
    assert main(["export", "--db", str(db), "--out", str(exp)]) == 0
    fr = _rows(exp / "frame.csv")
    assert [(r["unit_id"], r["status"], r["stratum"]) for r in fr] == [
        ("P1", "completed", "1-BY"), ("P2", "not_started", "1-BY"),
        ("P3", "broken_off", "3-BE"), ("P4", "not_started", "4-NW")]
    # pseudonymous: nothing in the frame joins to the export (no id, no times, no device)
    assert not {"response_id", "started_at", "completed_at", "device_class"} & set(fr[0])
    strata = _rows(exp / "strata.csv")
    assert strata[0] == {"stratum": "1-BY", "N_h": "500", "n_invited": "2", "n_responded": "1"}
    capsys.readouterr()
    assert main(["validate", str(exp / "export.csv"), "--out", str(tmp_path / "val")]) == 0
    assert "1 rows read, 1 valid, 0 quarantined" in capsys.readouterr().out
    assert given["q:practice_type"] == ["1"]
    para = _rows(exp / "paradata.csv")
    assert len(para) > 10 and set(para[0]) == {"response_id", "seq", "page", "submitted_at",
                                              "page_seconds", "device_class"}
    # a linked export keeps the response id in the frame
    assert main(["export", "--db", str(db), "--out", str(tmp_path / "linked"),
                 "--link-units"]) == 0
    linked = _rows(tmp_path / "linked" / "frame.csv")
    exported = _rows(exp / "export.csv")
    assert linked[0]["response_id"] == exported[0]["response_id"]


def test_frame_mistakes_are_one_line_errors(tmp_path, capsys):
    f = tmp_path / "f.csv"
    f.write_text("id,practice_type\nA,1\n", encoding="utf-8")
    assert main(["invite", "--frame", str(f), "--out", str(tmp_path / "o"),
                 "--db", str(tmp_path / "d.sqlite")]) == 2
    assert "no column 'unit_id'" in capsys.readouterr().err
    f.write_text("unit_id,practice_type\nA,1\nA,2\n", encoding="utf-8")
    assert main(["invite", "--frame", str(f), "--out", str(tmp_path / "o2"),
                 "--db", str(tmp_path / "d.sqlite")]) == 2
    assert "line 3, column unit_id: unit id 'A' repeats line 2" in capsys.readouterr().err
    assert main(["fieldwork", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert main(["export", "--db", str(tmp_path / "none.sqlite"), "--out", str(tmp_path)]) == 2


def test_hash_password_command(monkeypatch, capsys):
    import io

    from surveydata.fieldwork.web import verify_password

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["fieldwork", "--hash-password"]) == 0
    assert verify_password("a long enough password", capsys.readouterr().out.strip())


def test_serve_command_starts_a_server_with_its_headers(tmp_path):
    """`surveydata serve` as a user runs it: a process on a free port answering with the
    security headers; bad arguments are one-line errors."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path / "serve.sqlite"
    proc = subprocess.Popen([sys.executable, "-m", "surveydata", "serve", "--db", str(db),
                             "--port", str(port), "--lang", "de"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    headers, body = r.headers, r.read().decode()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert headers["X-Frame-Options"] == "DENY" and "server" not in headers
        assert 'name="token"' in body and db.exists()
        assert '<html lang="de">' in body  # --lang: the questionnaire's default language
    finally:
        proc.terminate()
        proc.wait(20)
    assert main(["serve", "--db", str(db), "--workers", "0"]) == 2


def test_fieldwork_commands_take_the_shared_study_options():
    from surveydata.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices
    for name in ("serve", "invite", "fieldwork", "export"):
        options = {o for a in sub[name]._actions for o in a.option_strings}
        assert {"--study", "--instrument", "--lang"} <= options, name

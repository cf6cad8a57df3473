"""The fieldwork store on SQLite and PostgreSQL: migrations, append-only pages, tokens, submit once."""
from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from surveydata.fieldwork import tokens
from surveydata.fieldwork.store import Store, StoreError, metadata


def test_migrations_create_exactly_the_declared_schema(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    st = Store(db_url)
    assert st.revision() == "0001"
    with st.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    Store(db_url)  # opening again is a no-op upgrade
    assert st.revision() == "0001"


def test_sqlite_file_runs_in_wal_mode(tmp_path):
    st = Store(f"sqlite:///{tmp_path / 'f.sqlite'}")
    with st.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_pages_are_appended_never_overwritten(db_url):
    st = Store(db_url)
    r = st.start_response("s", None, lang="de", device_class="phone")
    assert st.append_submission(r.id, 0, {"a": 1}, "phone") == 1
    assert st.append_submission(r.id, 1, {"b": "x"}, "phone") == 2
    assert st.append_submission(r.id, 0, {"a": 2}, "desktop") == 3
    subs = st.submissions(r.id)
    assert [(s["seq"], s["page"], s["answers"]) for s in subs] == [
        (1, 0, {"a": 1}), (2, 1, {"b": "x"}), (3, 0, {"a": 2})]
    assert st.latest_answers(r.id) == {0: {"a": 2}, 1: {"b": "x"}}
    assert all(s["page_seconds"] >= 0 for s in subs)
    assert st.response(r.id).last_page == 0


def test_submits_once_and_no_page_after_submission(db_url):
    st = Store(db_url)
    r = st.start_response("s", None, lang="en")
    st.append_submission(r.id, 0, {"a": 1})
    assert st.complete(r.id) is True
    assert st.complete(r.id) is False
    with pytest.raises(StoreError, match="already been submitted"):
        st.append_submission(r.id, 0, {"a": 2})
    assert st.latest_answers(r.id) == {0: {"a": 1}}


def test_tokens_are_stored_hashed_and_open_only_their_unit(db_url):
    st = Store(db_url)
    t1, t2 = tokens.new_token(), tokens.new_token()
    assert t1 != t2 and len(t1) == 22
    st.add_units("s", [{"unit_key": "u1", "token_hash": tokens.token_hash(t1), "stratum": "1-BY",
                        "frame": {"practice_type": 1, "region": "south"}},
                       {"unit_key": "u2", "token_hash": tokens.token_hash(t2), "stratum": "2-BE",
                        "frame": {}}])
    u = st.unit_by_token("s", t1)
    assert (u.unit_key, u.stratum, u.frame) == ("u1", "1-BY", {"practice_type": 1,
                                                               "region": "south"})
    assert st.unit_by_token("s", t2).unit_key == "u2"
    assert st.unit_by_token("s", t1[:-1] + ("A" if t1[-1] != "A" else "B")) is None
    assert st.unit_by_token("other_study", t1) is None
    assert st.unit_by_token("s", "' OR 1=1 --") is None
    with st.engine.connect() as conn:
        dump = json.dumps([list(map(str, r)) for t in ("units", "responses", "settings")
                           for r in conn.execute(sa.text(f"SELECT * FROM {t}"))])
    assert t1 not in dump and t2 not in dump
    with pytest.raises(StoreError, match="already invited: u1"):
        st.add_units("s", [{"unit_key": "u1", "token_hash": "0" * 64, "frame": {}}])


def test_one_response_per_unit_resumed(db_url):
    st = Store(db_url)
    st.add_units("s", [{"unit_key": "u1", "token_hash": "a" * 64, "frame": {}}])
    unit_id = st.units("s")[0].id
    r1 = st.start_response("s", unit_id, lang="de")
    st.append_submission(r1.id, 0, {"a": 1})
    r2 = st.start_response("s", unit_id, lang="en")
    assert r2.id == r1.id and st.latest_answers(r2.id) == {0: {"a": 1}}


def test_the_secret_is_created_once_and_shared(db_url):
    a, b = Store(db_url), Store(db_url)
    assert a.secret() == b.secret() and len(a.secret()) == 32


def test_concurrent_appends_lose_and_duplicate_nothing(db_url):
    st = Store(db_url)
    rs = [st.start_response("s", None, lang="de") for _ in range(4)]
    errors = []

    def work(r):
        try:
            for i in range(15):
                st.append_submission(r.id, i % 3, {"i": i})
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(r,)) for r in rs for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for r in rs:
        seqs = [s["seq"] for s in st.submissions(r.id)]
        assert seqs == list(range(1, 31))


def test_no_ip_or_user_agent_column():
    cols = {c.name for t in metadata.tables.values() for c in t.columns}
    assert not {c for c in cols if "ip" in c.split("_") or "agent" in c or "addr" in c}

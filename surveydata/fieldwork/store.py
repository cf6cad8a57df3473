"""The fieldwork database: sampled units, responses and every page submission, append-only.

SQLAlchemy 2 Core on SQLite (WAL, the embedded default) or PostgreSQL (psycopg 3, for several
server workers); the schema is created and upgraded by the Alembic migrations in
``surveydata/fieldwork/migrations`` when a store is opened.

Tables
    settings     key/value (a random secret for signing sessions, created once)
    units        one row per sampled unit: unit_key (the frame's id), token_hash (SHA-256 of the
                 token; the clear token is never stored), stratum, frame (JSON of the frame row:
                 strata and frame variables), wave, invited_at
    responses    one per started questionnaire: response_key (random pseudonym), unit_id (NULL in
                 anonymous mode), started_at, last_seen, last_page, completed_at, device_class
                 (phone/tablet/desktop/unknown), lang. No IP address, no user agent.
    submissions  one row per accepted page submission, never updated or deleted: response_id,
                 seq (1, 2, ... per response; unique), page, answers (JSON {column: code}),
                 submitted_at, page_seconds, device_class

The final answer of a page is its latest submission (`latest_answers`); nothing is overwritten.
Times are seconds since the epoch (UTC) as floats.

Example:
    >>> st = Store("sqlite://")
    >>> r = st.start_response("demo", None, lang="en", device_class="phone")
    >>> st.append_submission(r.id, 0, {"q1": 1}, "phone"), st.append_submission(r.id, 0, {"q1": 2}, "phone")
    (1, 2)
    >>> st.latest_answers(r.id)
    {0: {'q1': 2}}
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from surveydata.errors import SurveyDataError
from surveydata.fieldwork.tokens import looks_like_token, matches, token_hash

__all__ = ["Response", "Store", "StoreError", "Unit", "engine_url", "metadata"]

metadata = sa.MetaData()

settings = sa.Table(
    "settings", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
units = sa.Table(
    "units", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study", sa.String(200), nullable=False, index=True),
    sa.Column("unit_key", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("stratum", sa.String(200), nullable=True),
    sa.Column("frame", sa.Text, nullable=False),
    sa.Column("wave", sa.Integer, nullable=False),
    sa.Column("invited_at", sa.Float, nullable=False),
    sa.UniqueConstraint("token_hash", name="uq_units_token_hash"),
    sa.UniqueConstraint("study", "unit_key", name="uq_units_study_unit"),
)
responses = sa.Table(
    "responses", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study", sa.String(200), nullable=False, index=True),
    sa.Column("response_key", sa.String(40), nullable=False),
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("units.id"), nullable=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("last_page", sa.Integer, nullable=True),
    sa.Column("completed_at", sa.Float, nullable=True),
    sa.Column("device_class", sa.String(16), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.UniqueConstraint("response_key", name="uq_responses_key"),
    sa.UniqueConstraint("unit_id", name="uq_responses_unit"),
)
submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("response_id", sa.Integer, sa.ForeignKey("responses.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("page", sa.Integer, nullable=False),
    sa.Column("answers", sa.Text, nullable=False),
    sa.Column("submitted_at", sa.Float, nullable=False),
    sa.Column("page_seconds", sa.Float, nullable=True),
    sa.Column("device_class", sa.String(16), nullable=False),
    sa.UniqueConstraint("response_id", "seq", name="uq_submissions_seq"),
)
sa.Index("ix_submissions_response", submissions.c.response_id)

DEVICE_CLASSES = ("phone", "tablet", "desktop", "unknown")


class StoreError(SurveyDataError):
    """The database cannot be opened or used (names the URL without its password)."""


@dataclass(frozen=True)
class Unit:
    id: int
    study: str
    unit_key: str
    stratum: str | None
    frame: dict
    wave: int


@dataclass(frozen=True)
class Response:
    id: int
    study: str
    response_key: str
    unit_id: int | None
    started_at: float
    last_seen: float
    last_page: int | None
    completed_at: float | None
    device_class: str
    lang: str


def engine_url(db: str | Path | None, study_name: str = "fieldwork") -> str:
    """A SQLAlchemy URL from --db: a URL as given, a plain path as SQLite, None as
    ``<study>.fieldwork.sqlite`` in the working directory; ``postgresql://`` uses psycopg 3.

    >>> engine_url(None, "s"), engine_url("x/f.db"), engine_url("postgresql://u@h/db")
    ('sqlite:///s.fieldwork.sqlite', 'sqlite:///x/f.db', 'postgresql+psycopg://u@h/db')
    """
    if db is None:
        return f"sqlite:///{study_name}.fieldwork.sqlite"
    text = str(db)
    if "://" not in text:
        return f"sqlite:///{text}"
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def _sqlite_setup(engine: sa.Engine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so that concurrent writers queue
    instead of failing on a read-to-write upgrade (SQLAlchemy's documented pysqlite recipe)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """A fieldwork database (migrated to the newest schema on opening)."""

    def __init__(self, url: str, *, migrate: bool = True):
        self.url = url
        try:
            kwargs = {}
            if url.startswith("sqlite"):
                if url in ("sqlite://", "sqlite:///:memory:"):
                    kwargs["poolclass"] = sa.pool.StaticPool
                    kwargs["connect_args"] = {"check_same_thread": False}
                else:
                    kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            else:
                kwargs["pool_pre_ping"] = True
            self.engine = sa.create_engine(url, **kwargs)
            if url.startswith("sqlite"):
                _sqlite_setup(self.engine)
            if migrate:
                self.migrate()
        except sa.exc.SQLAlchemyError as err:
            raise StoreError(f"database {self.safe_url}: {str(err).splitlines()[0]}") from None
        except ModuleNotFoundError as err:
            raise StoreError(f"database {self.safe_url}: driver missing ({err.name}); "
                             "PostgreSQL needs `pip install psycopg[binary]`") from None

    @property
    def safe_url(self) -> str:
        """The URL with any password masked."""
        try:
            return sa.make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - only for messages
            return "<database>"

    # ----------------------------------------------------------------- schema
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        # Alembic (0.4 s to import) only when a database is created or upgraded
        from alembic import command  # noqa: PLC0415
        from alembic.config import Config  # noqa: PLC0415

        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def revision(self) -> str | None:
        """The Alembic revision the database is at."""
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def secret(self) -> bytes:
        """The signing secret of this database (created on first use, shared by all workers)."""
        with self.engine.begin() as conn:
            value = conn.execute(sa.select(settings.c.value)
                                 .where(settings.c.key == "secret_key")).scalar()
            if value is None:
                value = secrets.token_hex(32)
                try:
                    with conn.begin_nested():
                        conn.execute(settings.insert().values(key="secret_key", value=value))
                except IntegrityError:
                    value = conn.execute(sa.select(settings.c.value)
                                         .where(settings.c.key == "secret_key")).scalar()
        return bytes.fromhex(value)

    # ----------------------------------------------------------------- units
    def add_units(self, study: str, rows: list[dict], wave: int = 1) -> int:
        """Insert sampled units: dicts with unit_key, token_hash, stratum, frame (a dict).
        A unit_key already invited for this study is a StoreError naming it."""
        now = time.time()
        values = [{"study": study, "unit_key": str(r["unit_key"]), "token_hash": r["token_hash"],
                   "stratum": r.get("stratum"), "frame": json.dumps(r.get("frame", {}),
                                                                   sort_keys=True, default=str),
                   "wave": wave, "invited_at": now} for r in rows]
        if not values:
            return 0
        try:
            with self.engine.begin() as conn:
                conn.execute(units.insert(), values)
        except IntegrityError:
            with self.engine.connect() as conn:
                known = set(conn.execute(sa.select(units.c.unit_key)
                                         .where(units.c.study == study)).scalars())
            dup = sorted({v["unit_key"] for v in values} & known)
            raise StoreError(f"study {study}: unit(s) already invited: {', '.join(dup[:5])}"
                             + (" ..." if len(dup) > 5 else "")
                             + " (give only new units, or use a new database)") from None
        return len(values)

    def unit_by_token(self, study: str, token: str) -> Unit | None:
        """The unit whose token this is, or None (hash lookup, constant-time confirmation)."""
        if not looks_like_token(token):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(units).where(units.c.token_hash == token_hash(token),
                                                      units.c.study == study)).first()
        if row is None or not matches(token, row.token_hash):
            return None
        return _unit(row)

    def units(self, study: str) -> list[Unit]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(units).where(units.c.study == study)
                                .order_by(units.c.id)).all()
        return [_unit(r) for r in rows]

    # ----------------------------------------------------------------- responses
    def start_response(self, study: str, unit_id: int | None, *, lang: str,
                       device_class: str = "unknown") -> Response:
        """The unit's response (created on first opening); a new one in anonymous mode."""
        now = time.time()
        for _ in range(5):
            with self.engine.begin() as conn:
                if unit_id is not None:
                    row = conn.execute(sa.select(responses)
                                       .where(responses.c.unit_id == unit_id)).first()
                    if row is not None:
                        return _response(row)
                try:
                    with conn.begin_nested():
                        rid = conn.execute(responses.insert().values(
                            study=study, response_key=secrets.token_hex(8), unit_id=unit_id,
                            started_at=now, last_seen=now, last_page=None, completed_at=None,
                            device_class=_device(device_class), lang=lang)).inserted_primary_key[0]
                except IntegrityError:
                    continue
                row = conn.execute(sa.select(responses).where(responses.c.id == rid)).first()
                return _response(row)
        raise StoreError(f"could not start a response for unit {unit_id}")

    def response(self, response_id: int) -> Response | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(responses).where(responses.c.id == response_id)).first()
        return _response(row) if row is not None else None

    def response_by_key(self, key: str) -> Response | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(responses)
                               .where(responses.c.response_key == key)).first()
        return _response(row) if row is not None else None

    def touch(self, response_id: int, *, lang: str | None = None,
              device_class: str | None = None) -> None:
        """Record that a page was shown (its timing starts now)."""
        values: dict = {"last_seen": time.time()}
        if lang:
            values["lang"] = lang
        if device_class and device_class != "unknown":
            values["device_class"] = _device(device_class)
        with self.engine.begin() as conn:
            conn.execute(responses.update().where(responses.c.id == response_id).values(**values))

    def append_submission(self, response_id: int, page: int, answers: dict,
                          device_class: str = "unknown") -> int:
        """Append one accepted page; returns its sequence number. Never overwrites."""
        now = time.time()
        payload = json.dumps(answers, sort_keys=True)
        for _ in range(20):
            try:
                with self.engine.begin() as conn:
                    r = conn.execute(sa.select(responses.c.last_seen, responses.c.completed_at)
                                     .where(responses.c.id == response_id)).first()
                    if r is None:
                        raise StoreError(f"no response {response_id}")
                    if r.completed_at is not None:
                        raise StoreError("this questionnaire has already been submitted")
                    seq = (conn.execute(sa.select(sa.func.max(submissions.c.seq))
                                        .where(submissions.c.response_id == response_id))
                           .scalar() or 0) + 1
                    conn.execute(submissions.insert().values(
                        response_id=response_id, seq=seq, page=page, answers=payload,
                        submitted_at=now, page_seconds=max(0.0, now - r.last_seen),
                        device_class=_device(device_class)))
                    conn.execute(responses.update().where(responses.c.id == response_id)
                                 .values(last_page=page, last_seen=now))
                return seq
            except IntegrityError:
                time.sleep(0.01)
        raise StoreError(f"could not append a page to response {response_id}")

    def complete(self, response_id: int) -> bool:
        """Mark the response submitted; True only the first time (submits once)."""
        with self.engine.begin() as conn:
            res = conn.execute(responses.update()
                               .where(responses.c.id == response_id,
                                      responses.c.completed_at.is_(None))
                               .values(completed_at=time.time()))
        return res.rowcount == 1

    def latest_answers(self, response_id: int) -> dict[int, dict]:
        """{page: answers of its latest submission}."""
        out: dict[int, dict] = {}
        for s in self.submissions(response_id):
            out[s["page"]] = s["answers"]
        return out

    def submissions(self, response_id: int | None = None, study: str | None = None) -> list[dict]:
        """Submissions in order (of one response, or of a whole study)."""
        q = sa.select(submissions)
        if response_id is not None:
            q = q.where(submissions.c.response_id == response_id)
        if study is not None:
            q = q.join(responses, responses.c.id == submissions.c.response_id).where(
                responses.c.study == study)
        q = q.order_by(submissions.c.response_id, submissions.c.seq)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [{"response_id": r.response_id, "seq": r.seq, "page": r.page,
                 "answers": json.loads(r.answers), "submitted_at": r.submitted_at,
                 "page_seconds": r.page_seconds, "device_class": r.device_class} for r in rows]

    def responses(self, study: str) -> list[Response]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(responses).where(responses.c.study == study)
                                .order_by(responses.c.id)).all()
        return [_response(r) for r in rows]

    def dispose(self) -> None:
        self.engine.dispose()


def _device(value: str | None) -> str:
    return value if value in DEVICE_CLASSES else "unknown"


def _unit(row) -> Unit:
    return Unit(id=row.id, study=row.study, unit_key=row.unit_key, stratum=row.stratum,
                frame=json.loads(row.frame), wave=row.wave)


def _response(row) -> Response:
    return Response(id=row.id, study=row.study, response_key=row.response_key,
                    unit_id=row.unit_id, started_at=row.started_at, last_seen=row.last_seen,
                    last_page=row.last_page, completed_at=row.completed_at,
                    device_class=row.device_class, lang=row.lang)

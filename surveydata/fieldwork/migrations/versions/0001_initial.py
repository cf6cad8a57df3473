"""The first fieldwork schema: settings, sampled units (hashed tokens), responses, page submissions.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("study", sa.String(200), nullable=False),
        sa.Column("unit_key", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("stratum", sa.String(200), nullable=True),
        sa.Column("frame", sa.Text, nullable=False),
        sa.Column("wave", sa.Integer, nullable=False),
        sa.Column("invited_at", sa.Float, nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_units_token_hash"),
        sa.UniqueConstraint("study", "unit_key", name="uq_units_study_unit"),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("study", sa.String(200), nullable=False),
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
    op.create_table(
        "submissions",
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
    op.create_index("ix_units_study", "units", ["study"])
    op.create_index("ix_responses_study", "responses", ["study"])
    op.create_index("ix_submissions_response", "submissions", ["response_id"])


def downgrade() -> None:
    op.drop_table("submissions")
    op.drop_table("responses")
    op.drop_table("units")
    op.drop_table("settings")

"""index stage: mention roles, pair direction and venue flag, index points and alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 14:00:00.000000

``index_points`` is dropped and recreated: the first design (one directed day per row,
no grain, no publisher view) never held data.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both backends (batch mode only recreates SQLite tables when needed).
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=10), nullable=True))
    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("direction", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("place_only", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("index_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_points_day"))
    op.drop_table("index_points")

    op.create_table(
        "index_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grain", sa.String(length=5), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=3), nullable=False),
        sa.Column("target", sa.String(length=3), nullable=False),
        sa.Column("directed", sa.Boolean(), nullable=False),
        sa.Column("seen_from", sa.String(length=3), server_default="", nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("model_version", sa.String(length=50), nullable=False),
        sa.Column("tone", sa.Float(), nullable=False),
        sa.Column("tone_raw", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=False),
        sa.Column("ci_high", sa.Float(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("attention", sa.Float(), nullable=False),
        sa.Column("n_conflict", sa.Integer(), nullable=False),
        sa.Column("n_neutral", sa.Integer(), nullable=False),
        sa.Column("n_cooperation", sa.Integer(), nullable=False),
        sa.Column("tone_smooth7", sa.Float(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_points")),
        sa.UniqueConstraint(
            "grain",
            "period",
            "source",
            "target",
            "directed",
            "seen_from",
            "model_name",
            "model_version",
            name="uq_index_points_key",
        ),
    )
    with op.batch_alter_table("index_points", schema=None) as batch_op:
        batch_op.create_index(
            "ix_index_points_series", ["source", "target", "grain", "period"], unique=False
        )
        batch_op.create_index("ix_index_points_period", ["grain", "period"], unique=False)
        batch_op.create_index(
            "ix_index_points_model", ["model_name", "model_version"], unique=False
        )

    op.create_table(
        "index_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=3), nullable=False),
        sa.Column("target", sa.String(length=3), nullable=False),
        sa.Column("directed", sa.Boolean(), nullable=False),
        sa.Column("seen_from", sa.String(length=3), server_default="", nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Float(), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("model_version", sa.String(length=50), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_alerts")),
        sa.UniqueConstraint(
            "source",
            "target",
            "directed",
            "seen_from",
            "day",
            "model_name",
            "model_version",
            name="uq_index_alerts_key",
        ),
    )
    with op.batch_alter_table("index_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_index_alerts_day", ["day"], unique=False)
        batch_op.create_index("ix_index_alerts_pair", ["source", "target"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("index_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_index_alerts_pair")
        batch_op.drop_index("ix_index_alerts_day")
    op.drop_table("index_alerts")

    with op.batch_alter_table("index_points", schema=None) as batch_op:
        batch_op.drop_index("ix_index_points_model")
        batch_op.drop_index("ix_index_points_period")
        batch_op.drop_index("ix_index_points_series")
    op.drop_table("index_points")
    op.create_table(
        "index_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("a", sa.String(length=3), nullable=False),
        sa.Column("b", sa.String(length=3), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("model_version", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=False),
        sa.Column("ci_high", sa.Float(), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("n_conflict", sa.Integer(), nullable=False),
        sa.Column("n_neutral", sa.Integer(), nullable=False),
        sa.Column("n_cooperation", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_points")),
        sa.UniqueConstraint(
            "day",
            "a",
            "b",
            "model_name",
            "model_version",
            name=op.f("uq_index_points_day_a_b_model_name_model_version"),
        ),
    )
    with op.batch_alter_table("index_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_points_day"), ["day"], unique=False)

    with op.batch_alter_table("pairs", schema=None) as batch_op:
        batch_op.drop_column("place_only")
        batch_op.drop_column("direction")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_column("role")

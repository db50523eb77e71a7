"""Single sign-on and the user lifecycle.

``external_identity`` links a provider's (issuer, subject) to a local user; ``sso_role_mapping``
(+ ``_unit``) is the admin's claim → role/units mapping, read at every SSO login.
``app_user.deactivated_at`` tells an admin's deactivation apart from "no access via SSO" (an SSO
login never reopens an account an admin closed); ``app_user.session_epoch`` is part of every
session's marker, so bumping it ends the user's open sessions at once.

Revision ID: 0611_sso_lifecycle
Revises: 0591_text_catalogue
Create Date: 2026-12-07 23:29:41.704754
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import feedback.core.db

revision: str = "0611_sso_lifecycle"
down_revision: str | Sequence[str] | None = "0591_text_catalogue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_role_mapping",
        sa.Column("claim", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin", "manager", "caseworker", "panel_member", name="role", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("created_at", feedback.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_role_mapping")),
        sa.UniqueConstraint("claim", "value", name=op.f("uq_sso_role_mapping_claim_value")),
    )
    op.create_table(
        "external_identity",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=400), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", feedback.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", feedback.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_external_identity_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_identity")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_external_identity_issuer_subject")),
    )
    with op.batch_alter_table("external_identity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_external_identity_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sso_role_mapping_unit",
        sa.Column("mapping_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["sso_role_mapping.id"],
            name=op.f("fk_sso_role_mapping_unit_mapping_id_sso_role_mapping"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_sso_role_mapping_unit_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("mapping_id", "unit_id", name=op.f("pk_sso_role_mapping_unit")),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("deactivated_at", feedback.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
        batch_op.drop_column("deactivated_at")

    op.drop_table("sso_role_mapping_unit")
    with op.batch_alter_table("external_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_external_identity_user_id"))

    op.drop_table("external_identity")
    op.drop_table("sso_role_mapping")

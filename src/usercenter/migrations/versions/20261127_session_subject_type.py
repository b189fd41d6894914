"""sessions: an explicit subject type (user or staff) instead of negative staff ids

Staff sessions were stored under the negated staff id (`user_id = -staff_id`). They become
`subject_type = 'staff'` with the staff id as it is; every other row is a user's. Tokens do not
change: a staff token's `sub` stays `staff:<id>`.

Revision ID: 0006_session_subject
Revises: 0005_access
Create Date: 2026-11-27 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_session_subject"
down_revision: str | None = "0005_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_sessions = sa.table(
    "sessions",
    sa.column("user_id", sa.BigInteger()),
    sa.column("subject_type", sa.String(8)),
)


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("subject_type", sa.String(length=8), nullable=False, server_default="user")
        )
    op.execute(
        _sessions.update()
        .where(_sessions.c.user_id < 0)
        .values(subject_type="staff", user_id=-_sessions.c.user_id)
    )


def downgrade() -> None:
    op.execute(
        _sessions.update()
        .where(_sessions.c.subject_type == "staff")
        .values(user_id=-_sessions.c.user_id)
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("subject_type")

"""recording retention: when the team confirmed its transcript (its recording goes then, unless it consented)

Existing transcripts stay unconfirmed; their recordings were already deleted after transcription or are kept
with consent, so nothing changes for them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, as in 0006 and 0007: no batch rebuild of a table other tables cascade from.
    op.add_column('transcripts', sa.Column('confirmed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column('transcripts', 'confirmed_at')

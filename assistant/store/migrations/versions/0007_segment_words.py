"""segment words: each recognised word's time and confidence, pseudonymised like the segment's text

Existing segments get an empty list (their word confidence was never kept).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, as in 0006: no batch rebuild of a table other tables cascade from.
    op.add_column('segments', sa.Column('words', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    op.drop_column('segments', 'words')

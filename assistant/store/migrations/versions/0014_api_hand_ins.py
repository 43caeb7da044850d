"""api hand-ins: the token a case was handed in with, so the same token handing in the same content again gets
its own case back (a replay) while another token is only told it came before

A plain nullable column, as in 0006 and 0007 (no batch rebuild of a table other tables cascade from); existing
cases were not handed in through the API, so they stay without one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('api_token_id', sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column('cases', 'api_token_id')

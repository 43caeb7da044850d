"""draft method and warnings: how a draft was made (small-model, rich, extractive) and what its checks flagged

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=16), nullable=False, server_default='rich'))
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('learning_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('warnings', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('learning_points', schema=None) as batch_op:
        batch_op.drop_column('warnings')
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_column('warnings')
        batch_op.drop_column('method')

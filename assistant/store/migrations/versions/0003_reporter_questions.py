"""reporter questions: a returned learning point keeps the agent's question and the reporter's (pseudonymised) answer

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('learning_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_question', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reporter_answer', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reporter_answered_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('learning_points', schema=None) as batch_op:
        batch_op.drop_column('reporter_answered_at')
        batch_op.drop_column('reporter_answer')
        batch_op.drop_column('reporter_question')

"""action follow-ups: suggested actions on approved learning points tracked to done (PDSA)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_follow_ups',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('learning_point_id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('measure', sa.Text(), nullable=False),
    sa.Column('owner_role', sa.String(length=120), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learning_point_id'], ['learning_points.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('action_follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_follow_ups_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_follow_ups_learning_point_id'), ['learning_point_id'],
                              unique=False)
        batch_op.create_index('ix_action_follow_ups_status_due', ['status', 'due_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('action_follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_action_follow_ups_status_due')
        batch_op.drop_index(batch_op.f('ix_action_follow_ups_learning_point_id'))
        batch_op.drop_index(batch_op.f('ix_action_follow_ups_case_id'))
    op.drop_table('action_follow_ups')

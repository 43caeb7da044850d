"""patient reports: who told the case (staff, patient or relative), job priority, and links between accounts

A patient's or relative's account of an event can be linked to the staff case about the same event, so a
learning agent reads both side by side. Public reports queue behind staff work (a lower job priority).
Existing cases are staff cases and existing jobs keep the normal priority.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, as in 0006 and 0007: no batch rebuild of a table other tables cascade from.
    op.add_column('cases', sa.Column('reporter_type', sa.String(length=16), nullable=False, server_default='staff'))
    op.add_column('jobs', sa.Column('priority', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'case_links',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('staff_case_id', sa.String(length=32), nullable=False),
        sa.Column('account_case_id', sa.String(length=32), nullable=False),
        sa.Column('linked_by', sa.String(length=120), nullable=False),
        sa.Column('linked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['staff_case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['account_case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('staff_case_id', 'account_case_id', name='ux_case_links_pair'),
    )
    op.create_index('ix_case_links_staff_case_id', 'case_links', ['staff_case_id'])
    op.create_index('ix_case_links_account_case_id', 'case_links', ['account_case_id'])


def downgrade() -> None:
    op.drop_index('ix_case_links_account_case_id', table_name='case_links')
    op.drop_index('ix_case_links_staff_case_id', table_name='case_links')
    op.drop_table('case_links')
    op.drop_column('jobs', 'priority')
    op.drop_column('cases', 'reporter_type')

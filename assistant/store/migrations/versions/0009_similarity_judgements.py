"""similarity judgements: a learning agent's "similar" / "not similar" on a pair of cases, kept as evaluation data

One row per agent and unordered pair (case_a_id < case_b_id); a later judgement replaces the row, the audit log
keeps every earlier one. Rows go with either case when it is erased.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'similarity_judgements',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('case_a_id', sa.String(length=32), nullable=False),
        sa.Column('case_b_id', sa.String(length=32), nullable=False),
        sa.Column('judged_by', sa.String(length=120), nullable=False),
        sa.Column('similar', sa.Boolean(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('judged_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_a_id'], ['cases.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['case_b_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('case_a_id', 'case_b_id', 'judged_by', name='ux_similarity_judgements_pair_agent'),
    )
    op.create_index('ix_similarity_judgements_case_b_id', 'similarity_judgements', ['case_b_id'])


def downgrade() -> None:
    op.drop_index('ix_similarity_judgements_case_b_id', table_name='similarity_judgements')
    op.drop_table('similarity_judgements')

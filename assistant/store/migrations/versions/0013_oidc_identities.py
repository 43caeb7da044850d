"""oidc identities: a single sign-on identity (issuer + subject) and the local account it logs into

A new table, so no existing row changes; accounts made by single sign-on have no password.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oidc_identities',
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('issuer', 'subject'),
    )
    op.create_index('ix_oidc_identities_user_id', 'oidc_identities', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_oidc_identities_user_id', table_name='oidc_identities')
    op.drop_table('oidc_identities')

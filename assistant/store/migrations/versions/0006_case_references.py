"""case references: cases get "UTH-2026-0142" (year + per-year number), points a number within their case

Existing rows are numbered in the order they were created; the counters continue from there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reference_counters',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('year'),
    )
    # Plain ADD COLUMN, never a batch rebuild: on SQLite, dropping the old cases table would cascade its deletes.
    op.add_column('cases', sa.Column('reference', sa.String(length=40), nullable=True))
    op.add_column('learning_points', sa.Column('number', sa.Integer(), nullable=True))
    _backfill(op.get_bind(), op.get_context().config.attributes.get('reference_prefix', 'UTH'))
    op.create_index('ux_cases_reference', 'cases', ['reference'], unique=True)
    op.create_index('ux_learning_points_case_number', 'learning_points', ['case_id', 'number'], unique=True)


def _backfill(connection, prefix: str) -> None:
    cases = connection.execute(sa.text('SELECT id, created_at FROM cases ORDER BY created_at, id')).all()
    last: dict[int, int] = defaultdict(int)
    for case_id, created_at in cases:
        year = _year(created_at)
        last[year] += 1
        connection.execute(sa.text('UPDATE cases SET reference = :ref WHERE id = :id'),
                           {'ref': f'{prefix}-{year}-{last[year]:04d}', 'id': case_id})
    for year, number in last.items():
        connection.execute(sa.text('INSERT INTO reference_counters (year, last_number) VALUES (:y, :n)'),
                           {'y': year, 'n': number})
    points = connection.execute(sa.text(
        'SELECT lp.id, lp.case_id FROM learning_points lp JOIN drafts d ON d.id = lp.draft_id '
        'ORDER BY lp.case_id, d.created_at, d.id, lp.position, lp.created_at, lp.id')).all()
    count: dict[str, int] = defaultdict(int)
    for point_id, case_id in points:
        count[case_id] += 1
        connection.execute(sa.text('UPDATE learning_points SET number = :n WHERE id = :id'),
                           {'n': count[case_id], 'id': point_id})


def _year(created_at) -> int:
    """SQLite hands a raw text timestamp back to ``text()`` queries; PostgreSQL a datetime."""
    return created_at.year if hasattr(created_at, 'year') else int(str(created_at)[:4])


def downgrade() -> None:
    op.drop_index('ux_learning_points_case_number', table_name='learning_points')
    op.drop_index('ux_cases_reference', table_name='cases')
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as in upgrade: no rebuild of the cases table.
    op.drop_column('learning_points', 'number')
    op.drop_column('cases', 'reference')
    op.drop_table('reference_counters')

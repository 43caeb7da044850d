"""case messages: a thread between a case's learning agent and its reporter, many messages in order

The one-shot reporter question stays on learning_points (it still sends a point back to the team); from now on
each question, answer and released feedback is also written to the thread. Existing questions, answers and
released feedback are copied into the thread here, in the order they were written.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_messages',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('case_id', sa.String(length=32), nullable=False),
        sa.Column('author', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('learning_point_id', sa.String(length=32), nullable=True),
        sa.Column('written_by', sa.String(length=120), nullable=False),
        sa.Column('written_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_messages_case_id', 'case_messages', ['case_id'])
    _copy_questions_answers_and_feedback()


def _copy_questions_answers_and_feedback() -> None:
    """Earlier questions, answers and released feedback as thread messages, oldest first (ids keep the order)."""
    bind = op.get_bind()
    rows = []
    for point in bind.execute(sa.text(
            "SELECT id, case_id, reporter_question, reporter_answer, reporter_answered_at, decided_by, decided_at, "
            "updated_at FROM learning_points WHERE reporter_question IS NOT NULL")).mappings():
        asked_at = point['decided_at'] or point['reporter_answered_at'] or point['updated_at']
        rows.append((asked_at, 0, point['case_id'], 'agent', 'question', point['reporter_question'], point['id'],
                     point['decided_by'] or 'learning-agent'))
        if point['reporter_answer'] is not None:
            rows.append((point['reporter_answered_at'] or asked_at, 1, point['case_id'], 'reporter', 'answer',
                         point['reporter_answer'], point['id'], 'reporter'))
    for feedback in bind.execute(sa.text(
            "SELECT case_id, text, released_by, released_at FROM feedback WHERE status = 'released'")).mappings():
        rows.append((feedback['released_at'], 2, feedback['case_id'], 'agent', 'feedback', feedback['text'], None,
                     feedback['released_by'] or 'learning-agent'))
    # SQLite hands DateTime columns back as text here; both sort by time as written.
    rows.sort(key=lambda r: (str(r[0] or ''), r[1]))
    messages = sa.table('case_messages', sa.column('case_id'), sa.column('author'), sa.column('kind'),
                        sa.column('body'), sa.column('learning_point_id'), sa.column('written_by'),
                        sa.column('written_at', sa.DateTime()))
    for at, _order, case_id, author, kind, body, point_id, written_by in rows:
        bind.execute(messages.insert().values(case_id=case_id, author=author, kind=kind, body=body,
                                              learning_point_id=point_id, written_by=written_by,
                                              written_at=_as_datetime(at)))


def _as_datetime(value):
    import datetime as dt

    if value is None or isinstance(value, dt.datetime):
        return value or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return dt.datetime.fromisoformat(str(value))


def downgrade() -> None:
    op.drop_index('ix_case_messages_case_id', table_name='case_messages')
    op.drop_table('case_messages')

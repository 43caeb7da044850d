"""Database triggers that make the audit log append-only.

The one permitted change is redaction on erasure: ``before``, ``after`` and ``note`` may be set to NULL
(the erased content goes; the fact that a decision was made stays). Used by the migrations.
"""

from __future__ import annotations

from alembic import op

_SQLITE = [
    """
    CREATE TRIGGER IF NOT EXISTS audit_events_no_delete
    BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS audit_events_redact_only
    BEFORE UPDATE ON audit_events
    WHEN NOT (NEW.before IS NULL AND NEW.after IS NULL AND NEW.note IS NULL
              AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.role = OLD.role
              AND NEW.action = OLD.action AND NEW.case_id IS OLD.case_id
              AND NEW.learning_point_id IS OLD.learning_point_id)
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END
    """,
]

_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit log is append-only';
      END IF;
      IF NEW.before IS NULL AND NEW.after IS NULL AND NEW.note IS NULL
         AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND NEW.role = OLD.role
         AND NEW.action = OLD.action AND NEW.case_id IS NOT DISTINCT FROM OLD.case_id
         AND NEW.learning_point_id IS NOT DISTINCT FROM OLD.learning_point_id THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'audit log is append-only';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS audit_events_guard ON audit_events",
    """
    CREATE TRIGGER audit_events_guard BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_guard()
    """,
]


def create_audit_guard() -> None:
    """Install the append-only triggers for the current dialect."""
    statements = _POSTGRES if op.get_bind().dialect.name == "postgresql" else _SQLITE
    for statement in statements:
        op.execute(statement)


def drop_audit_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_guard ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_events_redact_only")

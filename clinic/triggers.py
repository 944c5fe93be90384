"""The audit table is append-only in the database too, whatever code runs against it.

PostgreSQL's TRUNCATE fires no row trigger: emptying a whole database stays possible for
its owner. SQLite's `flush` empties tables with DELETE, so the project's `flush` command
lifts the triggers for its duration (see clinic/management/commands/flush.py).
"""

APPEND_ONLY = {
    "postgresql": [
        """
        CREATE FUNCTION clinic_auditentry_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit entries are append-only';
        END
        $$
        """,
        """
        CREATE TRIGGER clinic_auditentry_append_only
        BEFORE UPDATE OR DELETE ON clinic_auditentry
        FOR EACH ROW EXECUTE FUNCTION clinic_auditentry_append_only()
        """,
    ],
    "sqlite": [
        """
        CREATE TRIGGER clinic_auditentry_no_update BEFORE UPDATE ON clinic_auditentry
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END
        """,
        """
        CREATE TRIGGER clinic_auditentry_no_delete BEFORE DELETE ON clinic_auditentry
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END
        """,
    ],
}
DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS clinic_auditentry_append_only ON clinic_auditentry",
        "DROP FUNCTION IF EXISTS clinic_auditentry_append_only()",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS clinic_auditentry_no_update",
        "DROP TRIGGER IF EXISTS clinic_auditentry_no_delete",
    ],
}


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in APPEND_ONLY.get(connection.vendor, []):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in DROP.get(connection.vendor, []):
            cursor.execute(sql)


def install_for_migration(apps, schema_editor) -> None:
    install(schema_editor.connection)


def remove_for_migration(apps, schema_editor) -> None:
    remove(schema_editor.connection)

"""The audit trail, the security log and the clinic's events are append-only in the
database too, whatever code runs against them.

PostgreSQL's TRUNCATE fires no row trigger: emptying a whole database stays possible for
its owner. SQLite's `flush` empties tables with DELETE, so the project's `flush` command
lifts the triggers for its duration (see clinic/management/commands/flush.py).
"""

from functools import partial

AUDIT = "clinic_auditentry"
SECURITY_LOG = "clinic_securityevent"
EVENTS = "clinic_event"
APPEND_ONLY_TABLES = (AUDIT, SECURITY_LOG, EVENTS)


def _install_sql(vendor: str, table: str) -> list[str]:
    message = f"{table} is append-only"
    if vendor == "postgresql":
        return [
            f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{message}';
            END
            $$
            """,
            f"""
            CREATE TRIGGER {table}_append_only
            BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()
            """,
        ]
    if vendor == "sqlite":
        return [
            f"""
            CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{message}'); END
            """,
            f"""
            CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{message}'); END
            """,
        ]
    return []


def _drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_append_only()",
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
    return []


def _run(connection, statements) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install(connection, tables=APPEND_ONLY_TABLES) -> None:
    _run(connection, [sql for table in tables for sql in _install_sql(connection.vendor, table)])


def remove(connection, tables=APPEND_ONLY_TABLES) -> None:
    _run(connection, [sql for table in tables for sql in _drop_sql(connection.vendor, table)])


def _install_for_migration(apps, schema_editor, *, tables) -> None:
    install(schema_editor.connection, tables)


def _remove_for_migration(apps, schema_editor, *, tables) -> None:
    remove(schema_editor.connection, tables)


# What the migrations call: each names its table, so that a migration made before a later
# table existed keeps to its own.
install_for_migration = partial(_install_for_migration, tables=(AUDIT,))
remove_for_migration = partial(_remove_for_migration, tables=(AUDIT,))
install_security_log = partial(_install_for_migration, tables=(SECURITY_LOG,))
remove_security_log = partial(_remove_for_migration, tables=(SECURITY_LOG,))
install_events = partial(_install_for_migration, tables=(EVENTS,))
remove_events = partial(_remove_for_migration, tables=(EVENTS,))

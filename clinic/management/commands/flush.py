"""Django's `flush`, able to empty the append-only audit table on SQLite too, and every
table on PostgreSQL.

SQLite empties tables with DELETE, which the audit table's trigger refuses; the trigger
is lifted for the flush and put back whatever happens. (PostgreSQL flushes with TRUNCATE,
which row triggers do not see.) Tests that commit their data flush between tests.
"""

from django.core.management.commands import flush
from django.db import connections

from clinic import triggers


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor == "postgresql":
            # knox's own token table outlives the swap to clinic.ApiToken (its migrations
            # create it whatever the token model) and still points at the users: TRUNCATE
            # must take it along, or refuse.
            return super().handle(**{**options, "allow_cascade": True})
        if connection.vendor != "sqlite":
            return super().handle(**options)
        triggers.remove(connection)
        try:
            return super().handle(**options)
        finally:
            triggers.install(connection)

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from boundary import dbroles


class Command(BaseCommand):
    help = (
        "Give the app's database role exactly its privileges: SELECT, INSERT, UPDATE and"
        " DELETE on every table, but only SELECT and INSERT on the append-only ones"
        " (APPEND_ONLY_MODELS). Run it after every migrate, connected as the role that owns"
        " the tables; running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role the app connects as.")
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The connection to grant through, as the owner of the tables.",
        )

    def handle(self, *args, role: str, database: str, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(f"Database roles are PostgreSQL's; '{database}' is not.")
        try:
            with transaction.atomic(using=database), connection.cursor() as cursor:
                grant = dbroles.grant_app_role(cursor, role)
        except dbroles.RoleError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{role} may SELECT, INSERT, UPDATE and DELETE on {len(grant.ordinary_tables)}"
            f" tables, and only SELECT and INSERT on {', '.join(grant.append_only_tables)}."
        )

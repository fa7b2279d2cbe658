from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.configref import markdown_table, readme_with_table


class Command(BaseCommand):
    help = "Print the configuration reference table, or refresh it in README.md (--write)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="Replace the table in README.md.")

    def handle(self, *args, **options) -> None:
        if not options["write"]:
            self.stdout.write(markdown_table())
            return
        readme = settings.BASE_DIR / "README.md"
        try:
            readme.write_text(readme_with_table(readme.read_text()))
        except ValueError as exc:
            raise CommandError("README.md has no configuration reference markers to replace.") from exc
        self.stdout.write("README.md's configuration reference is up to date.")

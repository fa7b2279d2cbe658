import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.services import customer_forget
from inbox.models import Customer
from inbox.selectors.privacy import customer_data_export


class Command(BaseCommand):
    help = "Export one customer's data as JSON (`export ID`), or erase it on request (`erase ID --yes`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("customer_id", type=int)
        parser.add_argument("--yes", action="store_true", help="Confirm an erasure (it cannot be undone).")

    def handle(self, *args, **options) -> None:
        customer_id = options["customer_id"]
        if not Customer.objects.filter(pk=customer_id).exists():
            raise CommandError(f"No customer with id {customer_id}.")
        if options["action"] == "export":
            self.stdout.write(json.dumps(customer_data_export(customer_id=customer_id), indent=2, ensure_ascii=False))
            return
        if not options["yes"]:
            raise CommandError("Erasing cannot be undone: add --yes to confirm.")
        erased = customer_forget(customer_id=customer_id)
        self.stdout.write(
            f"Erased customer {customer_id}: {erased['identities']} identit(ies) and "
            f"{erased['webhook_events']} raw webhook event(s) naming them."
        )

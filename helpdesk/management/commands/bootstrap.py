"""Make a fresh deployment usable: its first manager, who is also an agent in a team serving
every channel. Safe to run again: what exists is left as it is."""

import os

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.services import manager_ensure
from integrations.models import Channel
from routing.services import team_member_ensure

PASSWORD_VARIABLE = "HELPDESK_BOOTSTRAP_PASSWORD"  # noqa: S105  (the name of a variable)


class Command(BaseCommand):
    help = (
        "Create the first manager (a superuser) and make them an agent in a team that serves "
        f"every channel. The password comes from ${PASSWORD_VARIABLE}, or is generated and "
        "printed once; an existing user keeps theirs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument("--team", default="Support", help="The team's name (created if missing).")
        parser.add_argument("--capacity", type=int, default=10, help="Open conversations at once, for a new agent.")

    def handle(self, *args, **options) -> None:
        if options["capacity"] < 1:
            raise CommandError("--capacity must be at least 1.")
        user, password = manager_ensure(
            username=options["username"], email=options["email"], password=os.environ.get(PASSWORD_VARIABLE)
        )
        channels = list(Channel.objects.all())
        agent, team = team_member_ensure(
            user=user, team_name=options["team"], channels=channels, capacity=options["capacity"]
        )
        if password is None:
            self.stdout.write(f"User {user.username} exists; password unchanged.")
        elif PASSWORD_VARIABLE in os.environ:
            self.stdout.write(f"Created superuser {user.username} with the password from ${PASSWORD_VARIABLE}.")
        else:
            self.stdout.write(f"Created superuser {user.username}, password: {password}")
        self.stdout.write(
            f"{user.username} is an agent (capacity {agent.capacity}) in team {team.name!r}, "
            f"which serves {team.channels.count()} channel(s). Channels added later are given "
            "to a team in the admin (Routing → Teams), or by running this command again."
        )

"""The project's own state changes: the people who sign in."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction


@transaction.atomic
def manager_ensure(*, username: str, email: str, password: str | None) -> tuple[AbstractBaseUser, str | None]:
    """Create the superuser `username` if it does not exist; return it and the password set
    (generated when none is given), or None when the user existed and was left as it is."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
    if not created:
        return user, None
    password = password or secrets.token_urlsafe(12)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return user, password

"""Who may hand conversations out by hand."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def can_assign(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_active and (user.is_staff or user.has_perm("routing.assign_conversation"))


def can_override_capacity(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_active and (user.is_staff or user.has_perm("routing.override_capacity"))

"""When the connection pool cannot hand out a connection, the error says why: the server's
own refusal (a database not created yet), or a pool too small for the load."""

import pytest
from django.db import OperationalError, connections

from helpdesk.db.postgresql.base import DatabaseWrapper

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db]


def wrapper_for(name: str) -> DatabaseWrapper:
    default = connections["default"].settings_dict
    options = {**default["OPTIONS"], "pool": {"min_size": 1, "max_size": 1, "timeout": 0.5}}
    return DatabaseWrapper({**default, "NAME": name, "OPTIONS": options}, alias="probe")


def test_a_database_not_created_yet_is_named_instead_of_a_pool_timeout():
    wrapper = wrapper_for("helpdesk_never_created")
    try:
        with pytest.raises(OperationalError, match='database "helpdesk_never_created" does not exist.*createdb'):
            wrapper.ensure_connection()
    finally:
        wrapper.close_pool()


def test_a_full_pool_says_to_raise_its_size():
    wrapper = wrapper_for(connections["default"].settings_dict["NAME"])
    wrapper.pool.open()
    held = wrapper.pool.getconn()
    try:
        with pytest.raises(OperationalError, match="All 1 pooled connections.*DATABASE_POOL_MAX_SIZE"):
            wrapper.ensure_connection()
    finally:
        wrapper.pool.putconn(held)
        wrapper.close_pool()

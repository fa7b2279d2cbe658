import pytest

import assist.suggestions
from tests.inbox.conftest import desk  # noqa: F401  (the console's two-team fixture)


@pytest.fixture(autouse=True)
def _fresh_suggestion_index():
    """Each test's database starts empty (and may reuse ids): so does the process's index."""
    assist.suggestions._index = None
    yield
    assist.suggestions._index = None

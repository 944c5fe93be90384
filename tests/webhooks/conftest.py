import pytest

from tests.webhooks.receiver import receiver  # noqa: F401  (a fixture)
from webhooks.models import Endpoint
from webhooks.services import new_secret


@pytest.fixture
def endpoint_for():
    def make(clinic, url="https://hooks.example.test/knee-rocks", events=("*",), **fields):
        return Endpoint.objects.create(
            clinic=clinic, url=url, events=list(events), secret=new_secret(), **fields
        )

    return make

"""Maya (the `employee`) shares some of what she logged; Daniel (the `manager`) files to
Sam (the `second_employee`); Hana (`hr`) reads what is filed or shared."""

from typing import Any

import pytest
from django.test import Client

from boundary.models import User
from requests_log import services
from requests_log.models import PromotionRequest
from tests.support import login_with_otp


def file_request(manager: User, employee: User, **overrides: Any) -> PromotionRequest:
    details: dict[str, Any] = {
        "target_accounts": [],
        "promoted_item": "The autumn collection",
        "content_format": PromotionRequest.ContentFormat.VIDEOS,
        "quantity": 2,
        "compensation_offered": "€400 per video",
        **overrides,
    }
    return services.promotion_request_file(manager=manager, employee=employee, **details)


def as_user(user: User) -> Client:
    """Signed in, past the second factor where the role requires one."""
    client = Client()
    login_with_otp(client, user)
    return client


@pytest.fixture
def hana(hr) -> Client:
    return as_user(hr)

"""`make run`'s demo data: Maya's story through the services, with an intact chain."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from boundary.models import User
from requests_log import access, selectors, timeline
from requests_log.management.commands.load_demo import DEMO_EMAIL, DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_load_demo_tells_maya_s_story_once_with_an_intact_chain(capsys):
    call_command("load_demo")
    call_command("load_demo")

    maya = User.objects.get(email=DEMO_EMAIL)
    requests = list(selectors.with_flag_data(access.own_promotion_requests(maya)))
    flags = {item.promoted_item: item_flags for item, item_flags in selectors.flagged(requests)}
    output = capsys.readouterr().out
    assert authenticate(username=DEMO_EMAIL, password=DEMO_PASSWORD) == maya
    assert "Demo data loaded." in output
    assert "nothing to do" in output
    assert User.objects.filter(email=DEMO_EMAIL).count() == 1
    assert timeline.verify_chain(employee=maya).ok
    meeting = next(text for text in flags if "product line" in text)
    assert {"closed_account", "framing", "asked_after_decline"} <= {
        flag.code for flag in flags[meeting]
    }


def test_load_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="not in production"):
        call_command("load_demo")

    assert not User.objects.filter(email=DEMO_EMAIL).exists()

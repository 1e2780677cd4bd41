"""Fuzzing: generated values posted to every field of every form, and sent as every
query parameter, of every URL in the access matrix, as each of its cast. Whatever
arrives, the answer is never a 500 (issue 13, item 8).

The fields come from the pages themselves (every input, select and textarea a GET shows
to the owner), so a new form is fuzzed without touching this file. POSTs run in a
savepoint rolled back after each, so every example starts from the same world.
"""

from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_access_matrix import (
    CAST,
    MATRIX,
    TOKEN_KWARGS,
    owners_for,
    sign_in,
    world_of,
)

# Parameters the list pages read, tried on every page besides the form's own fields.
QUERY_NAMES = ["page", "q", "status", "requester", "framing", "platform", "date_from",
               "date_to", "mode", "next", "request", "format", "department", "period"]  # fmt: skip

ODD = [
    "",
    "\x00",
    "0",
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "²",
    "٣",
    "\u202e",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "2026-13-45",
    "2026-02-30T25:61",
    "https://evil.example/",
    "//evil.example",
    "x" * 70000,
]
values = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=40),
    st.integers().map(str),
    st.dates().map(str),
    st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M")),
)
# One value, or several under the same name, as a form or a crafted request may send.
field_values = st.one_of(values, st.lists(values, min_size=2, max_size=3))


class FieldNames(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        name = dict(attrs).get("name")
        if tag in ("input", "select", "textarea") and name and name != "csrfmiddlewaretoken":
            self.names.add(name)


def field_names(page: bytes) -> list[str]:
    parser = FieldNames()
    parser.feed(page.decode(errors="replace"))
    return sorted(parser.names)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_no_generated_input_makes_a_page_fail(name, cast, settings_for_fuzz):
    row = MATRIX[name]
    owner_name = owners_for(row, cast)[0]
    kwargs = (
        TOKEN_KWARGS.get(name) if owner_name is None else world_of(row, owner_name, cast)[row.obj]
    )
    url = reverse(name, kwargs=kwargs)
    clients = {viewer: Client() for viewer in CAST}
    for viewer, client in clients.items():
        if viewer in cast:
            sign_in(client, cast[viewer])
    owner_client = clients[owner_name or "employee"]
    page = owner_client.get(url)
    names = (field_names(page.content) if not page.streaming else []) or ["value"]

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        viewer=st.sampled_from(CAST),
        form=st.dictionaries(st.sampled_from(names), field_values, max_size=len(names)),
        query=st.dictionaries(st.sampled_from(QUERY_NAMES + names), values, max_size=4),
    )
    def requests_never_fail(viewer, form, query):
        client = clients[viewer]
        with transaction.atomic():
            got = client.get(url, query)
            posted = client.post(url, form)
            transaction.set_rollback(True)
        assert got.status_code < 500, (viewer, "GET", query)
        assert posted.status_code < 500, (viewer, "POST", form)

    requests_never_fail()


@pytest.fixture
def settings_for_fuzz(settings):
    settings.DEBUG = False
    return settings

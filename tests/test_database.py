"""How the app's database connections are set up (settings.py)."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_connections_plan_for_ssd_and_memory_not_spinning_disks():
    # With PostgreSQL's default of 4 a heavy record's decline history is read by
    # scanning every decline rather than through decision_decline_idx (docs/performance.md).
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"

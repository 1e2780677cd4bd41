"""Supply chain (issue 13): the waivers `make audit` accepts expire, and the one URL the
server fetches (an RFC 3161 authority) is http(s) only, as its `# nosec` says."""

import datetime
import importlib.util
from pathlib import Path

import pytest

from requests_log.exports import receipts

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"


@pytest.fixture
def audit(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "WAIVERS", tmp_path / "audit-waivers.txt")
    return module


def test_a_waiver_holds_until_its_expiry_date_then_fails(audit):
    audit.WAIVERS.write_text(
        "# comment\n"
        "GHSA-aaaa-bbbb-cccc 2027-01-31 the affected parser is never called  # trailing\n"
        "PYSEC-2026-1 2026-11-30 waits for the next release\n"
    )

    active, expired = audit.waivers(datetime.date(2026, 12, 3))

    assert active == {"GHSA-aaaa-bbbb-cccc": "the affected parser is never called"}
    assert expired == ["PYSEC-2026-1 (expired 2026-11-30): waits for the next release"]


def test_the_projects_waivers_file_parses():
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    active, expired = module.waivers(datetime.date.today())

    assert expired == []
    assert all(reason for reason in active.values())


@pytest.mark.parametrize(
    "authority", ["file:///etc/passwd", "ftp://tsa.example.org/tsr", "gopher://x/", "/tsr"]
)
def test_a_timestamp_authority_that_is_not_http_is_never_opened(authority):
    with pytest.raises(ValueError, match="only http"):
        receipts._post(authority, b"request")

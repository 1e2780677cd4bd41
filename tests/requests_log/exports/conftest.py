import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import cryptography
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import requests_log.chain
import requests_log.exports.containerformat
import requests_log.exports.fileformat
import requests_log.exports.receiptformat
import requests_log.exports.verifier
import requests_log.flags
from requests_log import services
from requests_log.exports import receipts, signing, tasks, verifier
from requests_log.exports.record import Record, Scope
from requests_log.models import Checkpoint, Decision, FollowUp
from tests.factories import SocialAccountFactory, log_request
from tests.tsa import LocalAuthority, local_authority

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def dispute(maya):
    """Flows 1-3: the meeting, the decline, the pressure; plus evidence and a second,
    unrelated request."""
    instagram = SocialAccountFactory(owner=maya, handle="maya.makes", boundary="closed")
    meeting = log_request(
        maya,
        target_accounts=[instagram],
        occurred_at=timezone.now() - timedelta(days=3),
        words_used="You're expected to post three videos about the new product line by Friday.",
        framing="expected",
        compensation_offered="",
        witnesses="Priya Shah, Tom Becker",
        evidence_files=[SimpleUploadedFile("whiteboard.png", PNG, content_type="image/png")],
    )
    services.decision_record(
        promotion_request=meeting,
        decided_by=maya,
        kind=Decision.Kind.DECLINE,
        decline_reasons=[Decision.DeclineReason.PERSONAL_SEPARATE],
        decided_at=timezone.now() - timedelta(days=2, hours=20),
    )
    services.follow_up_add(
        promotion_request=meeting,
        actor=maya,
        kind=FollowUp.Kind.PRESSURE,
        occurred_at=timezone.now() - timedelta(days=1),
        who="Daniel Reyes",
        what_was_said="Not a team player.",
        witnesses="Priya Shah",
    )
    other = log_request(maya, promoted_item="The summer sale", occurred_at=timezone.now())
    return {"meeting": meeting, "other": other, "instagram": instagram}


@pytest.fixture
def tsa(tmp_path, settings) -> Iterator[LocalAuthority]:
    """A real RFC 3161 authority on loopback (openssl ts), the one this instance asks."""
    served = local_authority(tmp_path / "tsa")
    authority = next(served)
    settings.RFC3161_TSA_URLS = [authority.url]
    settings.RFC3161_TSA_ROOTS = [str(authority.root)]
    yield authority
    served.close()


@pytest.fixture
def trusted():
    return {signing.signing_key().fingerprint}


def record_for(employee, **scope) -> Record:
    return Record(employee=employee, scope=Scope(**scope))


def check(data: bytes, trusted, probe_seq=None) -> verifier.Result:
    probes = {probe_seq} if probe_seq is not None else set()
    return verifier.verify_file(io.BytesIO(data), trusted=trusted, probes=probes)


@pytest.fixture
def standalone(tmp_path) -> Path:
    """A folder holding only verifier.py, fileformat.py, containerformat.py, receiptformat.py,
    chain.py, flags.py and the cryptography package (and cffi, which it loads), as someone
    outside Boundary would set it up."""
    folder = tmp_path / "verifier"
    folder.mkdir()
    shutil.copy(requests_log.exports.verifier.__file__, folder / "verifier.py")
    shutil.copy(requests_log.exports.fileformat.__file__, folder / "fileformat.py")
    shutil.copy(requests_log.exports.containerformat.__file__, folder / "containerformat.py")
    shutil.copy(requests_log.exports.receiptformat.__file__, folder / "receiptformat.py")
    shutil.copy(requests_log.chain.__file__, folder / "chain.py")
    shutil.copy(requests_log.flags.__file__, folder / "flags.py")
    site = Path(cryptography.__file__).parent.parent
    for name in ("cryptography", "cffi"):
        (folder / name).symlink_to(site / name)
    for backend in site.glob("_cffi_backend*.so"):
        (folder / backend.name).symlink_to(backend)
    return folder


LAUNCH = (
    "import sys; folder = sys.argv.pop(1); sys.path.insert(0, folder); "
    "sys.argv[0] = 'verifier.py'; import verifier; sys.exit(verifier.main())"
)


def run_standalone(folder: Path, *args: str) -> subprocess.CompletedProcess:
    # -I ignores PYTHONPATH, the user's site and the current folder; -S skips
    # site-packages: sys.path is the standard library plus the folder, as if the
    # verifier were run there on a machine with only Python and cryptography.
    return subprocess.run(  # noqa: S603 - a fixed argument list
        [sys.executable, "-I", "-S", "-c", LAUNCH, str(folder), *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "")},
        cwd=folder,
        timeout=60,
        check=False,
    )


# --- Receipts ---------------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    """The tasks a checkpoint queues after commit, captured instead of sent to a broker
    (the integration test runs them on a real worker)."""
    calls: dict[str, list] = {"timestamp": [], "send": []}
    monkeypatch.setattr(
        tasks.timestamp_checkpoint, "delay", lambda *args: calls["timestamp"].append(args)
    )
    monkeypatch.setattr(
        tasks.send_receipt, "apply_async", lambda args, **options: calls["send"].append(args)
    )
    return calls


def issue_receipt(employee, reason=Checkpoint.Reason.ASKED, *, capture):
    with capture(execute=True):
        return receipts.checkpoint_issue(employee=employee, reason=reason)


def receipt_bytes(checkpoint) -> bytes:
    checkpoint = Checkpoint.objects.get(pk=checkpoint.pk)
    return receipts.receipt_of(checkpoint).encode()


@pytest.fixture
def kept(maya, tsa, queued, django_capture_on_commit_callbacks):
    """Maya's record of three requests, and the receipt she kept after the second (with
    its timestamp)."""
    log_request(maya, promoted_item="The spring line")
    log_request(maya, promoted_item="The summer sale")
    checkpoint = issue_receipt(maya, capture=django_capture_on_commit_callbacks)
    receipts.timestamp_fetch(checkpoint_id=checkpoint.pk, authority=tsa.url)
    log_request(maya, promoted_item="The autumn range")
    return receipt_bytes(checkpoint)

import io
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import cryptography
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

import requests_log.chain
import requests_log.exports.fileformat
import requests_log.exports.verifier
import requests_log.flags
from requests_log import services
from requests_log.exports import signing, verifier
from requests_log.exports.record import Record, Scope
from requests_log.models import Decision, FollowUp
from tests.factories import SocialAccountFactory, log_request

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
def trusted():
    return {signing.signing_key().fingerprint}


def record_for(employee, **scope) -> Record:
    return Record(employee=employee, scope=Scope(**scope))


def check(data: bytes, trusted, probe_seq=None) -> verifier.Result:
    probes = {probe_seq} if probe_seq is not None else set()
    return verifier.verify_file(io.BytesIO(data), trusted=trusted, probes=probes)


@pytest.fixture
def standalone(tmp_path) -> Path:
    """A folder holding only verifier.py, fileformat.py, chain.py, flags.py and the cryptography
    package (and cffi, which it loads), as someone outside Boundary would set it up."""
    folder = tmp_path / "verifier"
    folder.mkdir()
    shutil.copy(requests_log.exports.verifier.__file__, folder / "verifier.py")
    shutil.copy(requests_log.exports.fileformat.__file__, folder / "fileformat.py")
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

"""ZIP bundles carry a stripped copy of each photo with metadata: its own SHA-256 in the
signed manifest, beside the original's, which the record's chain still holds."""

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from requests_log import imagemeta
from requests_log.exports import fileformat, signing, verifier
from requests_log.models import TimelineEvent
from tests.factories import log_request
from tests.requests_log.test_imagemeta import gps_jpeg

from .conftest import PNG, check, run_standalone
from .test_formats import make_zip, rezip

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(maya):
    data = gps_jpeg()
    log_request(
        maya,
        occurred_at=timezone.now() - timedelta(days=2),
        evidence_files=[
            SimpleUploadedFile("office photo.jpg", data, content_type="image/jpeg"),
            SimpleUploadedFile("whiteboard.png", PNG, content_type="image/png"),
        ],
    )
    return data


def contents(data: bytes) -> tuple[dict[str, bytes], dict]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        files = {name: bundle.read(name) for name in bundle.namelist()}
    return files, json.loads(files["manifest.json"])["manifest"]


def test_zip_holds_a_stripped_copy_beside_the_original(photo, maya, trusted):
    data = make_zip(maya)
    files, manifest = contents(data)

    [original] = [n for n in files if n.startswith("evidence/") and n.endswith("photo.jpg")]
    [copy] = [name for name in files if name.startswith("stripped/")]
    assert copy.endswith("-office-photo.jpg")
    assert files[original] == photo
    # Only the photo with metadata is copied: the plain PNG goes as it is.
    assert [name for name in files if "whiteboard" in name] == [
        next(name for name in files if name.startswith("evidence/") and "whiteboard" in name)
    ]
    original_sha = hashlib.sha256(photo).hexdigest()
    copy_sha = hashlib.sha256(files[copy]).hexdigest()
    assert copy_sha != original_sha
    assert manifest["files"][copy]["sha256"] == copy_sha
    assert manifest["files"][original]["sha256"] == original_sha
    assert manifest["stripped"] == {copy: {"original": original, "original_sha256": original_sha}}
    assert not imagemeta.read_metadata(files[copy]).has_metadata
    # The record still proves the original: its hash is in the chain.
    added = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.EVIDENCE_ADDED)
    assert original_sha in {event.payload["sha256"] for event in added}

    result = check(data, trusted)
    assert result.verdict == verifier.INTACT, result.reason


def test_originals_with_metadata_can_be_left_out(photo, maya, trusted):
    data = make_zip(maya, withhold=("photo_originals",))
    files, manifest = contents(data)

    assert not any(name.endswith("office-photo.jpg") and "evidence/" in name for name in files)
    [copy] = [name for name in files if name.startswith("stripped/")]
    assert manifest["stripped"][copy] == {
        "original": None,
        "original_sha256": hashlib.sha256(photo).hexdigest(),
    }
    assert any("whiteboard" in name for name in files)  # no metadata: kept
    assert "original photos that carry metadata" in manifest["scope_text"]
    result = check(data, trusted)
    assert result.verdict == verifier.INTACT, result.reason


def test_names_withheld_names_the_copy_by_number_only(photo, maya, trusted):
    files, _manifest = contents(make_zip(maya, withhold=("name",)))
    [copy] = [name for name in files if name.startswith("stripped/")]
    assert copy.removeprefix("stripped/").removesuffix(".jpg").isdigit()


def resealed(data: bytes, change) -> bytes:
    """The bundle with its manifest changed and signed again by the instance's own key."""

    def edit(files):
        manifest = json.loads(files["manifest.json"])["manifest"]
        change(files, manifest)
        manifest["files"] = {
            name: {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
            for name, body in files.items()
            if name != "manifest.json"
        }
        files["manifest.json"] = fileformat.zip_manifest_bytes(signing.signing_key().seal(manifest))

    return rezip(data, edit)


def test_a_copy_of_a_file_the_record_does_not_describe_is_altered(photo, maya, trusted):
    def swap(files, manifest):
        [copy] = manifest["stripped"]
        manifest["stripped"][copy] = {"original": None, "original_sha256": "ab" * 32}

    result = check(resealed(make_zip(maya), swap), trusted)
    assert result.verdict == verifier.ALTERED
    assert "copy of a file the record's events do not describe" in result.reason


def test_a_stripped_file_the_manifest_does_not_explain_is_not_an_export(photo, maya, trusted):
    def add(files, manifest):
        files["stripped/99-extra.png"] = PNG

    result = check(resealed(make_zip(maya), add), trusted)
    assert result.verdict == verifier.NOT_EXPORT


def test_a_copy_naming_the_wrong_original_is_not_an_export(photo, maya, trusted):
    def rename(files, manifest):
        [copy] = manifest["stripped"]
        other = next(name for name in files if "whiteboard" in name)
        manifest["stripped"][copy]["original"] = other

    result = check(resealed(make_zip(maya), rename), trusted)
    assert result.verdict == verifier.NOT_EXPORT


def test_standalone_verifier_checks_a_bundle_with_a_stripped_copy(
    standalone, tmp_path, photo, maya
):
    export = tmp_path / "export.zip"
    export.write_bytes(make_zip(maya, withhold=("photo_originals",)))

    completed = run_standalone(
        standalone, str(export), "--public-key", signing.signing_key().fingerprint
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Intact: Maya Okafor's record")


def test_bundles_without_photo_metadata_have_no_stripped_key(maya, trusted):
    log_request(
        maya, evidence_files=[SimpleUploadedFile("whiteboard.png", PNG, content_type="image/png")]
    )
    data = make_zip(maya)
    files, manifest = contents(data)

    assert "stripped" not in manifest
    assert not any(name.startswith("stripped/") for name in files)
    assert check(data, trusted).verdict == verifier.INTACT

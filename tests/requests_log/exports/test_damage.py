"""One verdict for any damaged file: the page, `verify_record` and the stand-alone script
give the same verdict and reason for every file of the battery (damage.py), and never a
traceback; and no byte of an export can change while it still reads as intact."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from requests_log.exports import fileformat, services, signing, verifier
from requests_log.models import Verification

from . import damage
from .conftest import run_standalone
from .test_formats import make_csv, make_json, make_pdf, make_zip
from .test_views import upload

pytestmark = pytest.mark.django_db

MAKERS = {"json": make_json, "csv": make_csv, "pdf": make_pdf, "zip": make_zip}

# Runs the stand-alone verifier's main() on every file of a folder, in one isolated
# interpreter (as test_verifier.run_standalone sets it up), and prints what each run
# printed, its exit status and anything that escaped it.
LAUNCH_MANY = """
import contextlib, io, json, os, sys, traceback
folder, files, key = sys.argv[1:4]
sys.path.insert(0, folder)
import verifier
for name in sorted(os.listdir(files)):
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = verifier.main([os.path.join(files, name), "--public-key", key, "--json"])
    except SystemExit as leaving:
        code = leaving.code
    except BaseException:
        code = None
        err.write(traceback.format_exc())
    print(json.dumps({"name": name, "code": code, "out": out.getvalue(), "err": err.getvalue()}))
"""


def standalone_answers(folder: Path, files: Path) -> dict[str, dict]:
    completed = subprocess.run(  # noqa: S603 - a fixed argument list
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            LAUNCH_MANY,
            str(folder),
            str(files),
            signing.signing_key().fingerprint,
        ],
        capture_output=True,
        text=True,
        env={"PATH": ""},
        cwd=folder,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    runs = [json.loads(line) for line in completed.stdout.splitlines()]
    return {run["name"]: run for run in runs}


def page_answer(data: bytes, settings) -> verifier.Result:
    """What the verify page answers (its service, with the page's limits), for the file
    as an in-memory upload."""
    return services.verification_run(
        export=io.BytesIO(data),
        file_name="upload",
        source=Verification.Source.PAGE,
        limits=fileformat.Limits(
            max_bytes=settings.EXPORT_VERIFY_MAX_BYTES,
            max_unpacked=settings.EXPORT_VERIFY_MAX_UNPACKED,
        ),
    )


def command_answer(path: Path) -> tuple[dict, int]:
    out = io.StringIO()
    try:
        call_command("verify_record", str(path), "--json", stdout=out)
        code = 0
    except CommandError as error:
        code = error.returncode
    return json.loads(out.getvalue()), code


def answer(result: dict) -> tuple[str, str, str]:
    return (result["verdict"], result["reason"], result["where"])


@pytest.mark.parametrize("kind", ["json", "csv", "pdf", "zip"])
def test_every_verifier_gives_one_answer_for_each_damaged_file(
    standalone, tmp_path, dispute, maya, settings, kind
):
    files = damage.battery(kind, MAKERS[kind](maya))
    folder = tmp_path / "battery"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)

    alone = standalone_answers(standalone, folder)
    disagreements, escaped, intact = [], [], []
    for name, data in files.items():
        page = page_answer(data, settings)
        command, command_code = command_answer(folder / name)
        run = alone[name]
        if run["err"] or run["code"] is None or page.unexpected is not None:
            escaped.append((name, run["err"][-300:], repr(page.unexpected)))
            continue
        script = json.loads(run["out"])
        answers = {answer(page.as_dict()), answer(command), answer(script)}
        if len(answers) != 1 or command_code != run["code"]:
            disagreements.append((name, answers, command_code, run["code"]))
        # Signed by this instance's key, a manifest it does not read is simply signed.
        if page.verdict == verifier.INTACT and not name.endswith("-our-key"):
            intact.append(name)

    assert escaped == []
    assert disagreements == []
    assert intact == []
    assert len(files) > 100


@pytest.mark.parametrize("kind", ["json", "csv", "pdf"])
def test_no_byte_of_a_seal_can_change_and_leave_it_intact(dispute, maya, trusted, kind):
    data = MAKERS[kind](maya)
    seal_start = data.rstrip(b"\n").rindex(b"\n") + 1

    still_intact = [
        position
        for position in range(seal_start, len(data))
        for mask in (0x01, 0x20)
        if verifier.verify_file(
            io.BytesIO(damage.flip(data, position, mask)), trusted=trusted
        ).verdict
        == verifier.INTACT
    ]

    assert still_intact == []


def test_no_byte_of_a_zips_headers_can_change_and_leave_it_intact(dispute, maya, trusted):
    data = make_zip(maya)

    still_intact = [
        position
        for position in damage.zip_structure_positions(data)
        for mask in (0x01, 0x80)
        if verifier.verify_file(
            io.BytesIO(damage.flip(data, position, mask)), trusted=trusted
        ).verdict
        == verifier.INTACT
    ]

    assert still_intact == []


def test_a_flipped_byte_in_a_zips_central_directory_gets_one_answer_everywhere(
    standalone, client, tmp_path, dispute, maya
):
    data = make_zip(maya)
    end = data.rindex(b"PK\x05\x06")
    directory = int.from_bytes(data[end + 16 : end + 20], "little")
    path = tmp_path / "record.zip"
    path.write_bytes(damage.flip(data, directory + 6))  # its first entry's version

    page = client.post(
        reverse("exports:verify"), {"export": upload("record.zip", path.read_bytes())}
    )
    command, _ = command_answer(path)
    alone = run_standalone(standalone, str(path), "--public-key", signing.signing_key().fingerprint)

    expected = (
        "the ZIP's central directory differs from what Boundary writes at manifest.json "
        "(its version), so it holds bytes nothing signs"
    )
    assert (page.context["result"].verdict, page.context["result"].reason) == (
        "altered",
        expected,
    )
    assert (command["verdict"], command["reason"]) == ("altered", expected)
    assert (alone.returncode, alone.stderr) == (1, "")
    assert alone.stdout.startswith(f"Altered: {expected}\n")


def test_a_bug_in_the_verifier_is_one_plain_answer_everywhere_and_logged_by_the_page(
    monkeypatch, caplog, settings
):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(verifier, "verify_json", broken)
    data = fileformat.JSON_HEAD + b"{}"

    direct = verifier.verify_file(io.BytesIO(data))
    page = page_answer(data, settings)

    assert (direct.verdict, direct.reason) == (
        verifier.NOT_EXPORT,
        "it could not be read as a Boundary export",
    )
    assert (page.verdict, page.reason) == (direct.verdict, direct.reason)
    assert "Verification of upload failed unexpectedly" in caplog.text
    assert "RuntimeError: bug" in caplog.text

"""The stand-alone verifier: runs with nothing but Python and cryptography."""

import io
import json
import subprocess
import sys

import pytest

from requests_log.exports import fileformat, signing, verifier

from .conftest import run_standalone
from .test_formats import make_csv, make_json, make_pdf, make_zip

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("make", [make_json, make_csv, make_pdf, make_zip])
def test_standalone_verifier_says_intact(standalone, tmp_path, dispute, maya, make):
    export = tmp_path / "export.bin"
    export.write_bytes(make(maya))

    completed = run_standalone(
        standalone, str(export), "--public-key", signing.signing_key().fingerprint
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Intact: Maya Okafor's record: events #1 to #5")


def test_standalone_verifier_imports_nothing_of_boundary(standalone, tmp_path, dispute, maya):
    export = tmp_path / "record.json"
    export.write_bytes(make_json(maya))
    probe = (
        f"import runpy, sys; sys.path.insert(0, {str(standalone)!r}); "
        "sys.argv = ['verifier.py', sys.argv[1]]\n"
        "try:\n    runpy.run_path('verifier.py', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'requests_log', 'boundary', 'weasyprint'}))"
    )

    completed = subprocess.run(  # noqa: S603 - a fixed argument list
        [sys.executable, "-I", "-S", "-c", probe, str(export)],
        capture_output=True,
        text=True,
        cwd=standalone,
        timeout=60,
        check=False,
    )

    assert completed.stdout.strip().splitlines()[-1] == "[]", completed.stderr


def test_standalone_verifier_with_a_pem_key_and_an_earlier_export(
    standalone, tmp_path, dispute, maya
):
    from tests.factories import log_request

    key = tmp_path / "boundary-key.pem"
    key.write_text(signing.signing_key().public_pem)
    earlier = tmp_path / "earlier.csv"
    earlier.write_bytes(make_csv(maya))
    log_request(maya)
    later = tmp_path / "later.pdf"
    later.write_bytes(make_pdf(maya))

    completed = run_standalone(
        standalone, str(later), "--earlier", str(earlier), "--public-key", str(key)
    )

    assert completed.returncode == 0, completed.stderr
    assert "Earlier export: this one contains it unchanged" in completed.stdout


@pytest.mark.parametrize(
    ("change", "code", "start"),
    [
        (lambda data: data.replace(b"team player", b"team playr"), 1, "Altered: event #4's"),
        (lambda data: b"hello", 3, "Not a Boundary export"),
    ],
)
def test_standalone_verifier_exit_codes(standalone, tmp_path, dispute, maya, change, code, start):
    export = tmp_path / "record.json"
    export.write_bytes(change(make_json(maya)))

    completed = run_standalone(
        standalone, str(export), "--public-key", signing.signing_key().fingerprint
    )

    assert (completed.returncode, completed.stdout[: len(start)]) == (code, start)


def test_standalone_verifier_without_a_key_says_whose_key_it_is(
    standalone, tmp_path, dispute, maya
):
    export = tmp_path / "record.json"
    export.write_bytes(make_json(maya))

    completed = run_standalone(standalone, str(export), "--json")

    assert completed.returncode == 2
    assert signing.signing_key().fingerprint in completed.stdout


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-5", "'-5"),
        ("@me", "'@me"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("| 50%", "| 50%"),
        ("", ""),
    ],
)
def test_neutralise(cell, written):
    assert fileformat.neutralise(cell) == written


def test_file_over_the_size_limit_is_not_checked(dispute, maya):
    result = verifier.verify_file(
        io.BytesIO(make_json(maya)), limits=fileformat.Limits(max_bytes=100)
    )

    assert result.verdict == verifier.NOT_EXPORT
    assert result.reason == "it is larger than the 0 MB this check takes"


def test_trusted_fingerprint_accepts_every_form_of_the_key(tmp_path):
    key = signing.signing_key()
    pem = tmp_path / "key.pem"
    pem.write_text(key.public_pem)

    forms = [key.fingerprint, key.public_base64, key.public_pem, str(pem)]

    assert {fileformat.trusted_fingerprint(form) for form in forms} == {key.fingerprint}


@pytest.fixture
def in_parallel(monkeypatch):
    """Check even a short record.json in parallel; the answers of the parallel pass (a
    Result, or None when it left the answer to the serial check) are collected."""
    monkeypatch.setattr(verifier, "PARALLEL_MIN_BYTES", 0)
    answers = []
    parallel = verifier._verify_json_in_parallel

    def recorded(*args):
        answers.append(parallel(*args))
        return answers[-1]

    monkeypatch.setattr(verifier, "_verify_json_in_parallel", recorded)
    return answers


@pytest.mark.parametrize("jobs", [2, 3, 8])
def test_a_json_record_checked_in_parallel_is_intact(in_parallel, tmp_path, dispute, maya, jobs):
    path = tmp_path / "record.json"
    path.write_bytes(make_json(maya))

    result = verifier.check_paths(str(path), limits=fileformat.Limits(jobs=jobs))
    serial = verifier.check_paths(str(path))

    assert in_parallel[0] is not None  # the parallel pass answered by itself
    assert result.verdict == verifier.UNKNOWN_KEY  # no key given: every check passed
    assert result.reason == serial.reason
    assert result.chain == serial.chain


def swap_two_entries(lines):
    lines[4], lines[5] = lines[5], lines[4]


def drop_an_entry(lines):
    del lines[5]


def change_a_value(lines):
    lines[5] = lines[5].replace(b'"value":"', b'"value":"X', 1)


def break_an_entry(lines):
    lines[6] = lines[6][:40] + b"\n"


@pytest.mark.parametrize(
    "change", [swap_two_entries, drop_an_entry, change_a_value, break_an_entry]
)
def test_a_damaged_json_record_gets_the_serial_verdict(
    in_parallel, tmp_path, dispute, maya, change
):
    lines = make_json(maya).splitlines(keepends=True)
    change(lines)
    path = tmp_path / "record.json"
    path.write_bytes(b"".join(lines))

    result = verifier.check_paths(str(path), limits=fileformat.Limits(jobs=2))
    with open(path, "rb") as handle:
        serial = verifier.verify_file(handle)

    assert in_parallel == [None]  # the parallel pass left the answer to the serial check
    assert result.verdict == verifier.ALTERED
    assert (result.reason, result.where) == (serial.reason, serial.where)


def test_standalone_verifier_takes_a_number_of_jobs(standalone, tmp_path, dispute, maya):
    export = tmp_path / "record.json"
    export.write_bytes(make_json(maya))

    completed = run_standalone(
        standalone, str(export), "--jobs", "2", "--public-key", signing.signing_key().fingerprint
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Intact: Maya Okafor's record: events #1 to #5")


# --- An earlier export: each file's own verdict first ----------------------------------------


@pytest.fixture
def forged_earlier(dispute, maya) -> bytes:
    """An "earlier" export in which the pressure remark was rewritten, every hash after
    it recomputed, and the whole signed by a key that is not the instance's."""
    from .damage import rewritten

    return rewritten(make_json(maya), b"Not a team player.", b"A great team player.")


def test_a_forged_earlier_export_never_makes_a_genuine_later_one_look_rewritten(
    forged_earlier, maya, trusted
):
    from tests.factories import log_request

    log_request(maya)
    later = make_zip(maya)

    result = verifier.check(io.BytesIO(later), earlier=io.BytesIO(forged_earlier), trusted=trusted)

    assert result.verdict == verifier.INTACT
    assert result.earlier.verdict == verifier.UNKNOWN_KEY
    assert result.prefix == verifier.Prefix(
        False,
        f"the earlier export is signed by a key that is not trusted here "
        f"({result.earlier.key_fingerprint}), so it proves nothing about this one",
        compared=False,
    )
    assert verifier.exit_code(result) == 5


def test_a_damaged_earlier_export_is_not_compared(dispute, maya, trusted):
    earlier = make_csv(maya).replace(b"Not a team player.", b"Not a team playr.")
    later = make_json(maya)

    result = verifier.check(io.BytesIO(later), earlier=io.BytesIO(earlier), trusted=trusted)

    assert (result.verdict, result.earlier.verdict) == (verifier.INTACT, verifier.ALTERED)
    assert (result.prefix.compared, result.prefix.reason) == (
        False,
        "the earlier export is itself altered, so it proves nothing about this one",
    )
    assert verifier.report(result).splitlines()[-3:] == [
        "Earlier export, on its own: Altered: event #4's content does not match its hash: "
        "it was changed",
        "Earlier export's first failure: event #4",
        "Earlier export: not compared: the earlier export is itself altered, so it proves "
        "nothing about this one",
    ]


def test_without_a_key_exports_signed_by_different_keys_are_not_compared(forged_earlier, maya):
    result = verifier.check(io.BytesIO(make_json(maya)), earlier=io.BytesIO(forged_earlier))

    assert (result.verdict, result.earlier.verdict) == (verifier.UNKNOWN_KEY,) * 2
    assert result.prefix.compared is False
    assert result.prefix.reason.startswith("they are signed by different keys")


def test_without_a_key_exports_signed_by_one_key_are_compared(dispute, maya):
    from tests.factories import log_request

    earlier = make_pdf(maya)
    log_request(maya)

    result = verifier.check(io.BytesIO(make_csv(maya)), earlier=io.BytesIO(earlier))

    assert result.verdict == verifier.UNKNOWN_KEY
    assert (result.prefix.compared, result.prefix.contained) == (True, True)


def test_a_genuine_earlier_export_still_shows_a_rewrite(dispute, maya, trusted):
    earlier = make_json(maya)
    later = make_json(maya).replace(b"Not a team player.", b"Not a team playr.")

    result = verifier.check(io.BytesIO(later), earlier=io.BytesIO(earlier), trusted=trusted)

    assert (result.verdict, result.earlier.verdict) == (verifier.ALTERED, verifier.INTACT)
    assert result.prefix.compared is False  # the later one failed its own check first


def test_standalone_verifier_shows_the_earlier_files_own_verdict(
    standalone, tmp_path, forged_earlier, maya
):
    earlier = tmp_path / "earlier.json"
    earlier.write_bytes(forged_earlier)
    later = tmp_path / "later.csv"
    later.write_bytes(make_csv(maya))
    key = signing.signing_key().fingerprint

    text = run_standalone(standalone, str(later), "--earlier", str(earlier), "--public-key", key)
    as_json = run_standalone(
        standalone, str(later), "--earlier", str(earlier), "--public-key", key, "--json"
    )

    assert (text.returncode, text.stderr) == (5, "")
    lines = text.stdout.splitlines()
    assert lines[0] == "Intact: Maya Okafor's record: events #1 to #5, 5 shown"
    assert lines[2].startswith("Earlier export, on its own: Signed by an unknown key: ")
    assert lines[3].startswith("Earlier export: not compared: the earlier export is signed by")
    answer = json.loads(as_json.stdout)
    assert (answer["verdict"], answer["earlier"]["verdict"]) == ("intact", "unknown_key")
    assert answer["prefix"]["compared"] is False
    assert "rewritten" not in text.stdout


def test_standalone_verifier_says_plainly_that_a_file_cannot_be_read(standalone, tmp_path):
    completed = run_standalone(standalone, str(tmp_path / "missing.zip"))

    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1].startswith(
        "verifier.py: error: cannot read " + str(tmp_path / "missing.zip")
    )
    assert "Traceback" not in completed.stderr

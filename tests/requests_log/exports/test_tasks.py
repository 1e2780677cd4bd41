from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from requests_log.exports import exporters, services
from requests_log.exports.record import Scope
from requests_log.exports.tasks import build_export, purge_expired_exports
from requests_log.models import Export, TimelineEvent, Verification

from .test_formats import make_json

pytestmark = pytest.mark.django_db


def queued(employee, format="pdf") -> Export:
    return services.export_request(
        employee=employee, requested_by=employee, format=format, scope=Scope()
    )


def test_build_export_twice_builds_once(dispute, maya):
    export = queued(maya)

    assert [build_export(export.pk), build_export(export.pk)] == ["ready", "skipped"]

    assert TimelineEvent.objects.filter(employee=maya, kind="exported").count() == 1


def test_build_export_takes_over_from_a_dead_worker(dispute, maya, settings):
    export = queued(maya, format="json")
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.RUNNING, started_at=timezone.now() - timedelta(hours=2)
    )

    assert build_export(export.pk) == "ready"


def test_build_export_leaves_a_live_build_alone(dispute, maya):
    export = queued(maya, format="json")
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.RUNNING, started_at=timezone.now()
    )

    assert build_export(export.pk) == "skipped"


def test_failed_build_is_marked_and_raised(dispute, maya, monkeypatch):
    export = queued(maya)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(exporters, "pdf_bytes", broken)

    with pytest.raises(OSError, match="disk full"):
        build_export(export.pk)

    export.refresh_from_db()
    assert (export.state, export.error) == ("failed", "OSError: disk full")
    assert not TimelineEvent.objects.filter(kind="exported").exists()


def test_purge_deletes_expired_files_and_keeps_the_rows(dispute, maya):
    export = queued(maya)
    build_export(export.pk)
    export.refresh_from_db()
    path = export.file.path
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert purge_expired_exports() == 1

    export.refresh_from_db()
    assert (export.state, bool(export.file)) == ("expired", False)
    import os

    assert not os.path.exists(path)
    assert purge_expired_exports() == 0


def test_verify_record_command(tmp_path, dispute, maya, capsys):
    good = tmp_path / "record.json"
    good.write_bytes(make_json(maya))
    bad = tmp_path / "bad.json"
    bad.write_bytes(good.read_bytes().replace(b"team player", b"team playr"))

    call_command("verify_record", str(good))
    with pytest.raises(CommandError) as failure:
        call_command("verify_record", str(bad), "--earlier", str(good))

    output = capsys.readouterr().out
    assert output.startswith("Intact: Maya Okafor's record")
    assert "Altered: event #4's content does not match its hash" in output
    assert failure.value.returncode == 1
    assert list(Verification.objects.order_by("pk").values_list("verdict", "source")) == [
        ("intact", "command"),
        ("altered", "command"),
    ]


def test_verify_record_command_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("verify_record", str(tmp_path / "nothing.json"))


def test_verify_record_command_shows_a_forged_earlier_exports_verdict(
    tmp_path, dispute, maya, capsys
):
    from .damage import rewritten

    later = tmp_path / "later.json"
    later.write_bytes(make_json(maya))
    earlier = tmp_path / "earlier.json"
    earlier.write_bytes(rewritten(later.read_bytes(), b"Not a team player.", b"Fine."))

    with pytest.raises(CommandError) as failure:
        call_command("verify_record", str(later), "--earlier", str(earlier))

    output = capsys.readouterr().out
    assert failure.value.returncode == 5
    assert str(failure.value) == (
        "The earlier file did not pass its own check, so it was not compared."
    )
    assert "Earlier export, on its own: Signed by an unknown key" in output
    assert "Earlier export: not compared: the earlier export is signed by a key" in output
    assert "rewritten" not in output


def test_verify_record_command_answers_a_damaged_zip_plainly(tmp_path, dispute, maya, capsys):
    from .damage import flip
    from .test_formats import make_zip

    data = make_zip(maya)
    end = data.rindex(b"PK\x05\x06")
    directory = int.from_bytes(data[end + 16 : end + 20], "little")
    damaged = tmp_path / "record.zip"
    damaged.write_bytes(flip(data, directory + 42))  # the first entry's offset

    with pytest.raises(CommandError) as failure:
        call_command("verify_record", str(damaged))

    assert failure.value.returncode == 1
    assert capsys.readouterr().out.startswith(
        "Altered: the ZIP's central directory differs from what Boundary writes at "
        "manifest.json (its offset)"
    )

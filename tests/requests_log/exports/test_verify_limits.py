"""The verify page cannot be starved (issue 13, item 4): one rate limit for every web
process, keyed by the client address the configured proxy reports, and a size limit
checked from Content-Length before the body is read and enforced while it streams."""

import io
import os
import subprocess
import sys
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import RequestFactory
from django.urls import reverse

from requests_log.exports import views
from requests_log.models import Verification

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("CACHE_URL") or os.environ.get("CELERY_BROKER_URL", "")


def redis_or_skip() -> str:
    if not REDIS_URL.startswith(("redis://", "rediss://")):
        pytest.skip("needs a Redis (CACHE_URL or a redis:// CELERY_BROKER_URL)")
    try:
        RedisCache(REDIS_URL, {}).get("ping")
    except Exception as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis unreachable: {error}")
    return REDIS_URL


def post_check(client, **extra):
    return client.post(
        reverse("exports:verify"),
        {"export": SimpleUploadedFile("x.bin", b"nothing")},
        **extra,
    ).status_code


def test_rate_limit_is_shared_by_two_processes(settings):
    url = redis_or_skip()
    settings.EXPORT_VERIFY_RATE = 3
    address = f"test-{uuid.uuid4().hex}"
    here = RedisCache(url, {"KEY_PREFIX": "boundary"})
    other_process = (
        "import django; django.setup();"
        "from requests_log.exports.views import too_many_checks;"
        f"print([too_many_checks({address!r}) for _ in range(2)])"
    )
    env = {**os.environ, "CACHE_URL": url, "EXPORT_VERIFY_RATE": "3"}
    env["DJANGO_SETTINGS_MODULE"] = "boundary.settings"
    try:
        first = [views.too_many_checks(address, here) for _ in range(2)]
        done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", other_process],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        # A third client of the same Redis: a second web process of this one.
        third = views.too_many_checks(address, RedisCache(url, {"KEY_PREFIX": "boundary"}))
    finally:
        here.delete(f"verify-rate:{address}")

    assert first == [False, False]
    assert done.stdout.strip() == "[False, True]"  # its own first check is the third
    assert third is True


def test_two_cache_clients_count_together_without_losing_a_check(settings):
    url = redis_or_skip()
    settings.EXPORT_VERIFY_RATE = 1000
    address = f"test-{uuid.uuid4().hex}"
    one, two = (
        RedisCache(url, {"KEY_PREFIX": "boundary"}),
        RedisCache(url, {"KEY_PREFIX": "boundary"}),
    )
    try:
        for _ in range(20):
            views.too_many_checks(address, one)
            views.too_many_checks(address, two)
        count = one.get(f"verify-rate:{address}")
    finally:
        one.delete(f"verify-rate:{address}")

    assert count == 40


def test_default_cache_follows_cache_url():
    from django.conf import settings as live

    # The test settings follow the environment: with a Redis CACHE_URL the default cache
    # is Redis; without, the local-memory cache of `make run`.
    backend = live.CACHES["default"]["BACKEND"]
    if os.environ.get("CACHE_URL"):
        assert backend == "django.core.cache.backends.redis.RedisCache"
    else:
        assert backend == "django.core.cache.backends.locmem.LocMemCache"


def test_forwarded_for_is_ignored_without_a_configured_proxy(client, settings):
    settings.EXPORT_VERIFY_RATE = 1
    settings.TRUSTED_PROXY_COUNT = 0

    statuses = [
        post_check(client, HTTP_X_FORWARDED_FOR="198.51.100.1"),
        post_check(client, HTTP_X_FORWARDED_FOR="198.51.100.2"),
    ]

    assert statuses == [200, 429]  # a client cannot buy a new limit by writing the header


def test_behind_one_proxy_each_client_has_its_own_limit(client, settings):
    settings.EXPORT_VERIFY_RATE = 1
    settings.TRUSTED_PROXY_COUNT = 1

    statuses = [
        post_check(client, HTTP_X_FORWARDED_FOR="198.51.100.1"),
        post_check(client, HTTP_X_FORWARDED_FOR="198.51.100.2"),
        # What the client wrote left of the proxy's hop is ignored.
        post_check(client, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1"),
    ]

    assert statuses == [200, 200, 429]


class Untouchable:
    """A request body that fails the test if anyone reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_huge_content_length_is_refused_before_the_body_is_read(client, settings):
    settings.EXPORT_VERIFY_MAX_BYTES = 1000

    response = client.generic(
        "POST",
        reverse("exports:verify"),
        b"x",
        content_type="multipart/form-data; boundary=xyz",
        **{"wsgi.input": Untouchable(), "CONTENT_LENGTH": str(300 * 1024 * 1024)},
    )

    assert response.status_code == 413
    assert b"larger than this page accepts" in response.content
    assert not Verification.objects.exists()


class Counting(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_upload_handler_stops_reading_at_the_limit():
    boundary = "xyz"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="export"; filename="a.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + b"x" * (10 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    stream = Counting(body)
    request = RequestFactory().post("/")
    guard = views.UploadTooLarge(request, 100 * 1024)
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "CONTENT_LENGTH": str(len(body)),
    }

    _, files = MultiPartParser(meta, stream, [guard]).parse()

    assert guard.too_large
    assert not files
    assert stream.consumed < 1024 * 1024  # not the whole 10 MB, read and thrown away

"""Loopback checks against a live server (threaded, as gunicorn's gthread workers are):
a slow upload to the verify page does not hold up another request, and an upload that
declares more than the page accepts is refused from its headers, its body never sent."""

import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True)


def connect(live_server) -> socket.socket:
    address = urlsplit(live_server.url)
    return socket.create_connection((address.hostname, address.port), timeout=10)


def headers(length: int) -> bytes:
    return (
        f"POST {reverse('exports:verify')} HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def status_of(sock: socket.socket) -> int:
    return int(sock.recv(64).split(b" ", 2)[1])


def timed_get(live_server, path: str) -> tuple[int, float]:
    sock = connect(live_server)
    started = time.monotonic()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    status = status_of(sock)
    sock.close()
    return status, time.monotonic() - started


def test_a_slow_upload_does_not_block_another_request(live_server):
    stop = threading.Event()
    slow = connect(live_server)
    slow.sendall(headers(1000))

    def trickle():  # one byte every half second, as the probe did
        while not stop.wait(0.5):
            try:
                slow.sendall(b"-")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        time.sleep(1.2)  # the slow upload is being read
        answers = [timed_get(live_server, reverse("exports:verify")) for _ in range(3)]
    finally:
        stop.set()
        slow.close()
        sender.join(timeout=2)

    assert [status for status, _ in answers] == [200, 200, 200]
    assert max(seconds for _, seconds in answers) < 2


def test_parallel_huge_uploads_are_refused_from_their_headers(live_server, settings):
    declared = 2 * settings.EXPORT_VERIFY_MAX_BYTES + 10 * 1024 * 1024
    socks = [connect(live_server) for _ in range(4)]
    started = time.monotonic()
    for sock in socks:
        sock.sendall(headers(declared))  # and not one byte of the body

    statuses = [status_of(sock) for sock in socks]
    seconds = time.monotonic() - started
    for sock in socks:
        sock.close()

    assert statuses == [413] * 4
    assert seconds < 3
    assert timed_get(live_server, reverse("exports:verify"))[0] == 200

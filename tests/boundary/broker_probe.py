"""The Celery app of the broker tests: Boundary's own, plus a task that records each
delivery and a producer.

Workers run `celery -A tests.boundary.broker_probe worker`. Each run of `record` appends
its number to the file named by BROKER_PROBE_RECEIPTS, one line per delivery (an
O_APPEND write of a short line is never interleaved with another). BROKER_PROBE_OPTIONS
(JSON), when set, replaces the broker's transport options, so a test can run the
configuration Boundary used to have. Run as a script, this publishes COUNT numbers from
START on, each as one message:

    python -m tests.boundary.broker_probe START COUNT
"""

import json
import os
import sys

from boundary.celery import app

if "BROKER_PROBE_OPTIONS" in os.environ:
    app.conf.broker_transport_options = json.loads(os.environ["BROKER_PROBE_OPTIONS"])


@app.task(name="tests.broker_probe.record")
def record(number: int) -> None:
    descriptor = os.open(os.environ["BROKER_PROBE_RECEIPTS"], os.O_WRONLY | os.O_APPEND)
    try:
        os.write(descriptor, f"{number}\n".encode())
    finally:
        os.close(descriptor)


def produce(start: int, count: int) -> None:
    with app.producer_or_acquire() as producer:
        for number in range(start, start + count):
            record.apply_async(args=[number], producer=producer)


if __name__ == "__main__":
    produce(int(sys.argv[1]), int(sys.argv[2]))

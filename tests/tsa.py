"""A real RFC 3161 timestamp authority on loopback for the tests: `openssl ts -reply`
behind a small HTTP handler, with a throwaway root and TSA certificate. Not a mock of the
protocol: the requests and answers are the ones a public authority exchanges."""

import datetime
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {folder}/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass
class LocalAuthority:
    url: str
    root: Path  # the root certificate, PEM: what a verifier trusts
    requests: list[bytes]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(*, sign_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=not sign_certificates,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certificates,
        crl_sign=sign_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def make_certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A root, and a timestamping certificate it signed: (root.pem, tsa.pem, tsa.key)."""
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} root"))
        .issuer_name(_name(f"{name} root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(sign_certificates=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(_usage(sign_certificates=False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    paths = folder / "root.pem", folder / "tsa.pem", folder / "tsa.key"
    paths[0].write_bytes(root.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def local_authority(folder: Path, name: str = "Test TSA") -> Iterator[LocalAuthority]:
    """Serve timestamps on a free loopback port until the generator is closed."""
    folder.mkdir(parents=True, exist_ok=True)
    root, certificate, key = make_certificates(folder, name)
    config = folder / "tsa.cnf"
    config.write_text(OPENSSL_CONFIG.format(folder=folder))
    (folder / "serial").write_text("01\n")
    received: list[bytes] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(query)
            with lock:  # openssl ts keeps its serial number in a file
                answer = subprocess.run(  # noqa: S603 - fixed arguments
                    [  # noqa: S607 - Debian's openssl, as CI installs it
                        "openssl",
                        "ts",
                        "-reply",
                        "-config",
                        str(config),
                        "-queryfile",
                        "/dev/stdin",
                        "-signer",
                        str(certificate),
                        "-inkey",
                        str(key),
                        "-out",
                        "/dev/stdout",
                    ],
                    input=query,
                    capture_output=True,
                    check=False,
                )
            status = 200 if answer.returncode == 0 else 500
            self.send_response(status)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer.stdout)))
            self.end_headers()
            self.wfile.write(answer.stdout)

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalAuthority(f"http://127.0.0.1:{server.server_port}/tsr", root, received)
    finally:
        server.shutdown()
        server.server_close()

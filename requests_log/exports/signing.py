"""The instance's Ed25519 key: generated on first use into a file outside the database
(settings.EXPORT_SIGNING_KEY, from BOUNDARY_SIGNING_KEY), then used to seal exports."""

import base64
import contextlib
import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from . import fileformat, receiptformat


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    public_raw: bytes

    @property
    def fingerprint(self) -> str:
        return fileformat.fingerprint(self.public_raw)

    @property
    def public_base64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    @property
    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def sign_note(self, note: str, name: str) -> str:
        """A signed note (C2SP signed-note) of `note`, by this key under `name`."""
        signature = self.private_key.sign(note.encode())
        return receiptformat.signed_note(note, name, self.public_raw, signature)

    def seal(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """The manifest with its signature and the key that made it."""
        signature = self.private_key.sign(fileformat.signed_bytes(manifest))
        return {
            "manifest": manifest,
            "signature": base64.b64encode(signature).decode(),
            "public_key": self.public_base64,
        }


def _create_key_file(path: Path) -> None:
    """Write a new key where none exists. Two processes may race here: each writes its
    own temporary file, and os.link refuses to replace a key the other one linked first."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@functools.cache
def _load(path: str) -> SigningKey:
    key_path = Path(path)
    if not key_path.exists():
        _create_key_file(key_path)
    private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{key_path} does not hold an Ed25519 private key.")
    public_raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SigningKey(private_key, public_raw)


def signing_key() -> SigningKey:
    return _load(str(settings.EXPORT_SIGNING_KEY))


def trusted_fingerprints() -> set[str]:
    """This instance's key and any earlier ones it still vouches for."""
    earlier = {fileformat.trusted_fingerprint(spec) for spec in settings.EXPORT_TRUSTED_KEYS}
    return {signing_key().fingerprint, *earlier}


def grouped(fingerprint: str) -> str:
    """A fingerprint as people compare it: SHA256: then groups of four."""
    digits = fingerprint.removeprefix("SHA256:")
    return "SHA256: " + " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))

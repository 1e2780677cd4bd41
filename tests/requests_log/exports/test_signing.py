import multiprocessing
import stat

import pytest

from requests_log.exports import fileformat, signing


def _make_key(path: str) -> str:
    signing._load.cache_clear()
    return signing._load(path).fingerprint


def test_key_is_made_on_first_use_with_owner_only_access(tmp_path, settings):
    settings.EXPORT_SIGNING_KEY = tmp_path / "keys" / "signing.pem"

    key = signing.signing_key()

    mode = stat.S_IMODE(settings.EXPORT_SIGNING_KEY.stat().st_mode)
    assert mode == 0o600
    assert key.fingerprint == fileformat.fingerprint(key.public_raw)
    assert signing.signing_key() is key


def test_two_processes_making_the_key_at_once_agree_on_one(tmp_path):
    path = str(tmp_path / "keys" / "signing.pem")
    context = multiprocessing.get_context("fork")

    with context.Pool(4) as pool:
        fingerprints = set(pool.map(_make_key, [path] * 8))

    assert len(fingerprints) == 1
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["signing.pem"]


def test_a_file_that_is_not_an_ed25519_key_is_refused(tmp_path, settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "wrong.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings.EXPORT_SIGNING_KEY = path

    with pytest.raises(ValueError, match="does not hold an Ed25519 private key"):
        signing.signing_key()


def test_trusted_keys_include_earlier_ones(settings):
    earlier = "SHA256:" + "ab" * 32
    settings.EXPORT_TRUSTED_KEYS = [earlier]

    assert signing.trusted_fingerprints() == {signing.signing_key().fingerprint, earlier}


def test_grouped_fingerprint():
    assert signing.grouped("SHA256:" + "0123" * 16).startswith("SHA256: 0123 0123 ")

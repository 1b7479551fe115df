"""Keys: generate, sign, verify (every flipped byte rejected), save / load."""
import os

import pytest

import vcp


def test_sign_verify_and_every_mutation_rejected():
    key = vcp.SecretKey.generate()
    message = b"epoch 7"
    signature = key.sign(message)
    assert len(key.public_key) == 32 and len(signature) == 64
    vcp.verify(key.public_key, message, signature)
    for i in range(64):
        bad = bytearray(signature)
        bad[i] ^= 0x80
        with pytest.raises(vcp.Error) as e:
            vcp.verify(key.public_key, message, bytes(bad))
        assert e.value.code == "rejected"
    with pytest.raises(vcp.Error):
        vcp.verify(key.public_key, b"epoch 8", signature)
    with pytest.raises(vcp.Error):
        vcp.verify(vcp.SecretKey.generate().public_key, message, signature)
    with pytest.raises(vcp.Error) as e:
        vcp.verify(key.public_key, message, signature[:63])
    assert e.value.code == "invalid argument"


def test_from_seed_is_deterministic():
    a, b = vcp.SecretKey.from_seed(bytes([5]) * 32), vcp.SecretKey.from_seed(bytes([5]) * 32)
    assert a.public_key == b.public_key and a.sign(b"m") == b.sign(b"m")
    assert a.public_key != vcp.SecretKey.from_seed(bytes([6]) * 32).public_key
    with pytest.raises(vcp.Error):
        vcp.SecretKey.from_seed(b"short")


def test_save_and_load(tmp_path):
    key = vcp.SecretKey.generate()
    key_dir = tmp_path / "keys"
    key.save(str(key_dir))
    assert (os.stat(key_dir / "vcp.key").st_mode & 0o777) == 0o600
    loaded = vcp.SecretKey.load(str(key_dir))
    assert loaded.public_key == key.public_key
    assert vcp.SecretKey.load(str(key_dir / "vcp.key")).public_key == key.public_key
    assert vcp.load_public_key(str(key_dir / "vcp.pub")) == key.public_key
    assert vcp.load_public_key(key.public_key.hex()) == key.public_key
    with pytest.raises(vcp.Error):  # refuses to overwrite
        vcp.SecretKey.generate().save(str(key_dir))
    with pytest.raises(vcp.Error):  # the public half where the secret one is needed
        vcp.SecretKey.load(str(key_dir / "vcp.pub"))
    with pytest.raises(vcp.Error) as e:
        vcp.SecretKey.load(str(tmp_path / "missing" / "vcp.key"))
    assert e.value.message

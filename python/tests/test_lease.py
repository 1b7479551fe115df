"""A short on-demand lease, both roles in one process over temporary store directories, messages as bytes."""
import json

import numpy as np
import pytest

import vcp

# 64 x 64 x 64 int8, T = 8: 64 tiles per round. The claimed rate makes each epoch's compute time 8 s and, with the
# default slack 0.25, its deadline 10 s: far more than the CPU needs here.
ROUNDS = 2
ROUND_OPS = 2 * 64 * 64 * 64


@pytest.fixture
def parties(tmp_path):
    verifier_key, provider_key = vcp.SecretKey.generate(), vcp.SecretKey.generate()
    terms = vcp.Workload("int8", 64, 64, 64, tile=8, seed=bytes(32))
    verifier = vcp.VerifierSession.create(str(tmp_path / "verifier"), verifier_key, provider_key.public_key, terms,
                                          rounds=ROUNDS, claimed_ops_per_second_per_device=ROUNDS * ROUND_OPS // 8,
                                          threads=1)
    lease = verifier.lease
    provider = vcp.ProviderSession.accept(str(tmp_path / "provider"), lease, provider_key)
    verifier.add_acceptance(provider.acceptance)
    yield tmp_path, verifier_key, provider_key, verifier, provider
    verifier.close()
    provider.close()


def test_lease_epoch_passes_both_roles(parties):
    tmp_path, verifier_key, provider_key, verifier, provider = parties
    lease = verifier.lease
    assert vcp.message_type(lease) == "lease"
    lease_json = json.loads(vcp.message_json(lease))
    assert lease_json["signature_valid"] and lease_json["parameters_valid"]
    assert verifier.accepted and provider.lease_id == verifier.lease_id == vcp.lease_id(lease)

    start = verifier.start_epoch(verifier_key)
    assert vcp.message_type(start) == "epoch-start"
    record = provider.prove(start, provider_key, backend="cpu", threads=1)
    assert vcp.message_type(record) == "epoch-record"
    got = verifier.receive_record(record, verifier_key)
    assert got["passed"], got
    assert got["reason"] == "pass" and got["verdict"] is None
    challenge = got["challenge"]
    assert vcp.message_type(challenge) == "challenge"

    response = provider.respond(challenge, provider_key, backend="cpu", threads=1)
    # A response with one byte flipped is refused; the epoch stays open for the valid one.
    bad = bytearray(response)
    bad[len(bad) // 2] ^= 0x01
    refused = verifier.receive_response(bytes(bad), verifier_key)
    assert not refused["passed"] and refused["reason"] != "pass"

    answered = verifier.receive_response(response, verifier_key)
    assert answered["passed"], answered
    verdict = json.loads(vcp.message_json(answered["verdict"]))
    assert verdict["verdict"] == "pass" and verdict["operations"] == ROUNDS * ROUND_OPS
    assert verifier.verdicts() == [answered["verdict"]]
    report = json.loads(verifier.report_json())
    assert (report["epochs"], report["passed"], report["failed"], report["all_passed"]) == (1, 1, 0, True)
    assert report["lease_id"] == verifier.lease_id.hex() and report["proven_operations"] == ROUNDS * ROUND_OPS

    # Each sampled round's root in the response is the root of that round's workload, run here from the lease and
    # the start alone; its leaf hashes are (64, 32) uint8.
    rounds = json.loads(vcp.message_json(response))["rounds"]
    assert rounds
    for opened in rounds:
        round_workload = vcp.round_workload(lease, start, opened["round"])
        c = vcp.run(round_workload, backend="cpu", threads=1)
        assert c.root_hex == opened["root"]
        leaves = c.leaf_hashes()
        assert (leaves.shape, leaves.dtype) == ((64, 32), np.uint8)


def test_sessions_reopen_and_lock(parties):
    tmp_path, verifier_key, provider_key, verifier, provider = parties
    with pytest.raises(vcp.Error) as e:  # one writer per store
        vcp.VerifierSession.open(str(tmp_path / "verifier"))
    assert e.value.code == "unavailable"
    verifier.close()
    provider.close()
    with pytest.raises(vcp.Error, match="closed"):
        verifier.start_epoch(verifier_key)
    with vcp.VerifierSession.open(str(tmp_path / "verifier")) as v, \
            vcp.ProviderSession.open(str(tmp_path / "provider")) as p:
        assert v.accepted and v.lease == p.lease
        start = v.start_epoch(verifier_key)
        with pytest.raises(vcp.Error) as e:  # the verifier's key is not the provider's
            p.prove(start, verifier_key, backend="cpu", threads=1)
        assert e.value.code == "invalid argument"
        record = p.prove(start, provider_key, backend="cpu", threads=1)
        assert p.prove(start, provider_key, backend="cpu", threads=1) == record  # idempotent
        with pytest.raises(vcp.Error):  # a record where a response is expected
            v.receive_response(record, verifier_key)


def test_session_errors(tmp_path):
    key = vcp.SecretKey.generate()
    with pytest.raises(vcp.Error) as e:
        vcp.ProviderSession.accept(str(tmp_path / "p"), b"garbage", key)
    assert e.value.code == "corrupt data"
    with pytest.raises(vcp.Error):
        vcp.ProviderSession.open(str(tmp_path / "nothing-here"))
    terms = vcp.Workload("int8", 64, 64, 64, tile=8, seed=bytes(32))
    with pytest.raises(vcp.Error) as e:  # a zero rate: no deadline can be computed
        vcp.VerifierSession.create(str(tmp_path / "v"), key, vcp.SecretKey.generate().public_key, terms, rounds=2,
                                   claimed_ops_per_second_per_device=0)
    assert e.value.code == "invalid argument"
    with pytest.raises(vcp.Error):
        vcp.VerifierSession.create(str(tmp_path / "v2"), key, b"short", terms, rounds=2,
                                   claimed_ops_per_second_per_device=1000)

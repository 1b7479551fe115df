"""Workloads: known answers, numpy inputs and tiles, leaf hashes, open / check, errors."""
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import vcp

REPO = Path(__file__).resolve().parents[2]


def workload_of(entry, kind=None):
    return vcp.Workload(kind or entry["workload"], entry["m"], entry["n"], entry["k"], tile=entry["tile"],
                        seed=entry["seed"])


@pytest.mark.parametrize("kind", ["int8", "fp32-ordered"])
def test_known_answers(spec, kind):
    v = spec[kind]
    w = workload_of(v, kind)
    c = vcp.run(w, backend="cpu", threads=1)
    assert c.root_hex == v["root"]
    assert c.root == bytes.fromhex(v["root"])
    assert c.leaf_count == len(v["leaf_hashes"]) == w.leaf_count
    assert [h.tobytes().hex() for h in c.leaf_hashes()] == v["leaf_hashes"]
    a, b = w.generate_a(), w.generate_b()
    if kind == "int8":
        assert a.ravel()[:8].tolist() == v["a_first8"] and b.ravel()[:8].tolist() == v["b_first8"]
    else:
        assert [f"{x:08x}" for x in a.view(np.uint32).ravel()[:8]] == v["a_first8"]
        assert [f"{x:08x}" for x in b.view(np.uint32).ravel()[:8]] == v["b_first8"]


def test_shapes_known_answers(spec):
    for entry in spec["shapes"]:
        c = vcp.run(workload_of(entry), backend="cpu")
        assert (c.root_hex, c.leaf_count) == (entry["root"], entry["leaf_count"]), entry


def find_cli():
    for candidate in [os.environ.get("VCP_CLI"), REPO / "build" / "bin" / "vcp", shutil.which("vcp")]:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def test_root_matches_cli():
    cli = find_cli()
    if cli is None:
        pytest.skip("no vcp CLI (set VCP_CLI or build build/bin/vcp)")
    seed = bytes(range(100, 132)).hex()
    for kind in ["int8", "fp32-ordered"]:
        out = subprocess.run([cli, "run", "--workload", kind, "--m", "50", "--n", "24", "--k", "17", "--tile", "8",
                              "--seed", seed, "--backend", "cpu"], check=True, capture_output=True, text=True,
                             timeout=60).stdout
        root = next(line.split()[1] for line in out.splitlines() if line.startswith("root"))
        w = vcp.Workload(kind, 50, 24, 17, tile=8, seed=bytes.fromhex(seed))
        assert vcp.run(w, backend="cpu").root_hex == root


def test_int8_arrays_and_output():
    w = vcp.Workload("int8", 37, 19, 23, tile=8, seed=bytes(32))
    a, b, c = w.generate_a(), w.generate_b(), w.output()
    assert (a.shape, a.dtype) == ((37, 23), np.int8)
    assert (b.shape, b.dtype) == ((23, 19), np.int8)
    assert (c.shape, c.dtype) == ((37, 19), np.int32)
    # Exact int32 accumulation: numpy's integer matmul gives the same C.
    assert np.array_equal(c, a.astype(np.int32) @ b.astype(np.int32))
    # Deterministic: the same seed gives the same bits.
    assert np.array_equal(a, w.generate_a(threads=1))


def test_fp32_arrays():
    w = vcp.Workload("fp32-ordered", 9, 17, 5, tile=8, seed=bytes([7]) * 32)
    a, b, c = w.generate_a(), w.generate_b(), w.output()
    assert (a.shape, a.dtype, b.shape, b.dtype) == ((9, 5), np.float32, (5, 17), np.float32)
    assert (c.shape, c.dtype) == ((9, 17), np.float32)
    assert w.tile_values(0).dtype == np.float32


@pytest.mark.parametrize("kind", ["int8", "fp32-ordered"])
def test_every_tile_rehashes_to_its_committed_leaf(spec, kind):
    w = workload_of(spec[kind], kind)
    commitment = vcp.run(w, backend="cpu")
    leaves = commitment.leaf_hashes()
    assert (leaves.shape, leaves.dtype) == ((w.leaf_count, 32), np.uint8)
    output = w.output()
    rows, cols = w.tile_grid
    assert rows * cols == w.leaf_count
    for i in range(w.leaf_count):
        t = w.tile_info(i)
        values = w.tile_values(i)
        assert values.shape == (t["rows"], t["cols"])  # the last tile row / column is partial (40 x 72, T = 16)
        assert np.array_equal(values.view(np.uint32),
                              output[t["row0"]:t["row0"] + t["rows"], t["col0"]:t["col0"] + t["cols"]].view(np.uint32))
        assert w.leaf_hash(i, values) == leaves[i].tobytes()
        changed = values.copy()
        changed.view(np.uint32)[0, 0] ^= 1
        assert w.leaf_hash(i, changed) != leaves[i].tobytes()
    assert vcp.merkle_root(leaves) == commitment.root


def test_open_matches_known_multiproof_and_checks(spec):
    w = workload_of(spec["int8"], "int8")
    c = vcp.run(w, backend="cpu")
    indices = spec["proofs"]["multiproof"]["indices"]
    proof = c.open(indices)
    assert proof.hex() == spec["proofs"]["multiproof_file"]
    vcp.check(w, c.root, proof)
    assert '"type": "multiproof"' in vcp.message_json(proof)


def test_check_rejects_every_mutation(spec):
    w = workload_of(spec["int8"], "int8")
    c = vcp.run(w, backend="cpu")
    proof = c.open([1, 6, 7, 14])
    # Every hash byte of the proof (after the 4 x u64 indices) flipped: rejected or corrupt, never accepted.
    hashes_start = len(proof) - 5 * 32
    for offset in range(hashes_start, len(proof), 7):
        bad = bytearray(proof)
        bad[offset] ^= 0x01
        with pytest.raises(vcp.Error) as e:
            vcp.check(w, c.root, bytes(bad))
        assert e.value.code in ("rejected", "corrupt data")
    wrong_root = bytes([c.root[0] ^ 1]) + c.root[1:]
    with pytest.raises(vcp.Error) as e:
        vcp.check(w, wrong_root, proof)
    assert e.value.code == "rejected" and e.value.message
    other = vcp.Workload("int8", w.m, w.n, w.k, tile=w.tile, seed=bytes(32))
    with pytest.raises(vcp.Error) as e:
        vcp.check(other, c.root, proof)
    assert e.value.code == "rejected"
    with pytest.raises(vcp.Error) as e:
        vcp.check(w, c.root, b"VCPM garbage")
    assert e.value.code == "corrupt data"


def test_errors_raise_vcp_error():
    seed = bytes(32)
    cases = [
        (lambda: vcp.Workload("int9", 8, 8, 8, seed=seed), "invalid argument", "int8"),
        (lambda: vcp.Workload("int8", 0, 8, 8, seed=seed), "invalid argument", "M = 0"),
        (lambda: vcp.Workload("int8", 8, 8, 200000, seed=seed), "invalid argument", "131071"),
        (lambda: vcp.Workload("int8", 8, 8, 8, tile=12, seed=seed), "invalid argument", "power of two"),
        (lambda: vcp.Workload("int8", 8, 8, 8, seed=b"short"), "invalid argument", "32 bytes"),
        (lambda: vcp.Workload("int8", 8, 8, 8, seed="zz" * 32), "invalid argument", "seed"),
        (lambda: vcp.run(vcp.Workload("int8", 8, 8, 8, seed=seed), backend="tpu"), "invalid argument", "cpu"),
        (lambda: vcp.message_json(b"not a message"), "corrupt data", ""),
        (lambda: vcp.merkle_root(np.zeros((3, 31), np.uint8)), "invalid argument", "(L, 32)"),
    ]
    for call, code, text in cases:
        with pytest.raises(vcp.Error) as e:
            call()
        assert e.value.code == code, e.value
        assert isinstance(e.value.value, int) and e.value.value != 0
        assert e.value.message and text in e.value.message, e.value.message
        assert str(e.value).startswith(code + ": ")
    w = vcp.Workload("int8", 20, 20, 8, tile=8, seed=seed)
    c = vcp.run(w, backend="cpu")
    with pytest.raises(vcp.Error, match="out of range"):
        w.tile_values(w.leaf_count)
    with pytest.raises(vcp.Error, match=r"\(8, 8\)"):
        w.leaf_hash(0, np.zeros((4, 8), np.int32))
    with pytest.raises(vcp.Error):
        w.leaf_hash(0, np.zeros((8, 8), np.int8))
    with pytest.raises(vcp.Error) as e:
        c.open([3, 1])
    assert e.value.code == "invalid argument"
    assert issubclass(vcp.Error, Exception)

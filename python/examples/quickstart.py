#!/usr/bin/env python3
"""vcp from Python, using only the installed module: run a workload, look at it with numpy, open and check tiles,
then drive one on-demand epoch of a short lease with both roles. Run it from anywhere:

    python3 python/examples/quickstart.py [WORKDIR]

WORKDIR (default: a temporary directory) receives the two lease stores. Exit status 0 when every check passed.
"""
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

import vcp


def main(workdir: Path) -> int:
    # A workload: C (96 x 80) = A (96 x 64) x B (64 x 80), int8 inputs, 16 x 16 tiles, from a verifier's seed.
    w = vcp.Workload("int8", 96, 80, 64, tile=16, seed=bytes(range(32)))
    commitment = vcp.run(w, backend="cpu")
    print(f"root {commitment.root_hex}: {commitment.leaf_count} tiles on {commitment.device['name']}")

    a, b = w.generate_a(), w.generate_b()
    assert np.array_equal(w.output(), a.astype(np.int32) @ b.astype(np.int32)), "C is not A x B"
    leaves = commitment.leaf_hashes()
    values = w.tile_values(7)  # tile 7, recomputed from the seed alone
    assert w.leaf_hash(7, values) == leaves[7].tobytes(), "tile 7 does not hash to its committed leaf"

    proof = commitment.open([2, 7, 29])
    vcp.check(w, commitment.root, proof)
    print(f"opened tiles 2, 7, 29: {len(proof)}-byte proof checked")

    # A lease: 64 x 64 x 64 int8 rounds of 8 x 8 tiles, 2 rounds per epoch, claimed rate making the deadline 10 s.
    verifier_key, provider_key = vcp.SecretKey.generate(), vcp.SecretKey.generate()
    terms = vcp.Workload("int8", 64, 64, 64, tile=8, seed=bytes(32))
    rate = 2 * (2 * 64 * 64 * 64) // 8
    with vcp.VerifierSession.create(str(workdir / "verifier"), verifier_key, provider_key.public_key, terms,
                                    rounds=2, claimed_ops_per_second_per_device=rate) as verifier, \
            vcp.ProviderSession.accept(str(workdir / "provider"), verifier.lease, provider_key) as provider:
        verifier.add_acceptance(provider.acceptance)
        start = verifier.start_epoch(verifier_key)
        record = provider.prove(start, provider_key, backend="cpu")
        got = verifier.receive_record(record, verifier_key)
        if not got["passed"]:
            print(f"record refused: {got['reason']}: {got['detail']}")
            return 1
        response = provider.respond(got["challenge"], provider_key, backend="cpu")
        done = verifier.receive_response(response, verifier_key)
        verdict = json.loads(vcp.message_json(done["verdict"])) if done["verdict"] else None
        print(f"epoch 0: {done['reason']} ({verdict['verdict'] if verdict else 'no verdict'})")
        return 0 if done["passed"] else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(Path(sys.argv[1])))
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp)))

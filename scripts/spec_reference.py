#!/usr/bin/env python3
"""Independent reference implementation of docs/SPEC.md version 2 (sections 1-7 and 9), written from the document.

Standard library only. It covers: Philox4x32-10, TaggedHash and the input key (sections 2-3), element mapping for
int8 and fp32-ordered (section 3), C for both workloads (section 4; fp32-ordered as an exact left-to-right fma
chain, once with a general IEEE 754 binary32 fma and once with the scaled-integer form the spec's informative proof
allows), tiles and v2 leaves (sections 5-6), the RFC 6962 Merkle tree hash, inclusion proofs, multiproofs and the
multiproof file format v2 (section 7).

    scripts/spec_reference.py --check tests/vectors/spec_v2.json

recomputes every key of the vector file (section 9.2-9.7), self-tests the proof code, prints a line per check and
finally "N passed, F failed"; exit status 0 only when nothing failed.

    scripts/spec_reference.py --generate OUT.json

writes the same keys computed here (seeds of the searched vectors are found by search), for comparing with the
engine's file.
"""

import argparse
import bisect
import hashlib
import json
import math
import os
import random
import struct
import sys
import time

MASK32 = 0xFFFFFFFF

# ---------------------------------------------------------------------------------------------------------------
# Philox4x32-10 (section 3; Random123 philox4x32 with 10 rounds). The constants are those of section 3 (Random123's
# PHILOX_M4x32_0/1, PHILOX_W32_0/1), checked by the known answers of section 9.1.
PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85


def philox4x32_10(ctr, key):
    """ctr = (c0, c1, c2, c3), key = (k0, k1), all u32; returns (w0, w1, w2, w3)."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for rnd in range(10):
        if rnd:
            k0 = (k0 + PHILOX_W0) & MASK32
            k1 = (k1 + PHILOX_W1) & MASK32
        p0 = PHILOX_M0 * c0
        p1 = PHILOX_M1 * c2
        hi0, lo0 = p0 >> 32, p0 & MASK32
        hi1, lo1 = p1 >> 32, p1 & MASK32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return (c0, c1, c2, c3)


# ---------------------------------------------------------------------------------------------------------------
# Section 2: tagged hashes; section 3: the input key.
WORKLOAD_INT8 = 1
WORKLOAD_FP32 = 2
WORKLOAD_NAMES = {WORKLOAD_INT8: "int8", WORKLOAD_FP32: "fp32-ordered"}


def tagged_hash(tag, fields):
    t = tag.encode("ascii")
    if len(t) > 255:
        raise ValueError("tag longer than 255 bytes")
    return hashlib.sha256(bytes([len(t)]) + t + fields).digest()


def check_shape(workload, m, n, k):
    for name, v in (("M", m), ("N", n), ("K", k)):
        if not 1 <= v <= 1 << 20:
            raise ValueError("%s = %d outside [1, 2^20]" % (name, v))
    if workload == WORKLOAD_INT8 and k > 131071:
        raise ValueError("int8 with K = %d > 131071" % k)
    if workload not in WORKLOAD_NAMES:
        raise ValueError("unknown workload id %d" % workload)


def input_key(seed, workload, m, n, k):
    if len(seed) != 32:
        raise ValueError("seed must be 32 bytes")
    d = tagged_hash("vcp.v2.input-key", seed + struct.pack("<BIII", workload, m, n, k))
    return struct.unpack_from("<II", d, 0)


class MatrixGen:
    """Elements of A (X = 0) or B (X = 1) by row-major index, with a one-block cache."""

    def __init__(self, key, which):
        self.key = key
        self.which = which
        self._block = None
        self._words = None

    def block(self, b):
        """The four words of block b: counter (b mod 2^32, floor(b / 2^32), X, 0)."""
        if b != self._block:
            self._words = philox4x32_10((b & MASK32, b >> 32, self.which, 0), self.key)
            self._block = b
        return self._words

    def int8(self, e):
        w = self.block(e >> 4)
        j = e & 15
        byte = (w[j >> 2] >> (8 * (j & 3))) & 0xFF
        return byte - 256 if byte >= 128 else byte

    def fp32_int(self, e):
        """The integer v with element e = v * 2^-23: int32(w >> 8) - 2^23, in [-2^23, 2^23 - 1]."""
        return (self.block(e >> 2)[e & 3] >> 8) - 8388608

    def fp32_bits(self, e):
        """Binary32 bit pattern of element e: float(int32(w >> 8) - 2^23) * 2^-23 (exact, never -0)."""
        return round_dyadic_to_binary32(self.fp32_int(e), -23)


# ---------------------------------------------------------------------------------------------------------------
# Exact binary32 arithmetic. A finite binary32 value is handled as (n, e) meaning n * 2^e with n a signed integer.
def round_dyadic_to_binary32(n, e, zero_negative=False, ties_away=False):
    """Round the exact value n * 2^e (n: int, e: int) to binary32, round to nearest, ties to even (or, with
    ties_away, ties away from zero), with gradual underflow (subnormals) and overflow to infinity. Returns the
    32-bit pattern. When n == 0 the result is a zero whose sign is given by zero_negative (an exact zero carries no
    sign of its own; the caller applies IEEE 754's sign rules). A nonzero value that rounds to zero keeps its sign."""
    if n == 0:
        return 0x80000000 if zero_negative else 0
    sign = 0x80000000 if n < 0 else 0
    a = -n if n < 0 else n
    top = a.bit_length() - 1 + e                # exponent of the leading bit: 2^top <= |x| < 2^(top+1)
    q = max(top, -126) - 23                     # quantum (ulp) of the binade, -149 for subnormals
    shift = q - e
    if shift <= 0:
        mant = a << -shift
    else:
        mant = a >> shift
        rem = a - (mant << shift)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and (ties_away or mant & 1)):
            mant += 1
    if mant == 1 << 24:                         # carry into the next binade
        mant >>= 1
        q += 1
    if mant == 0:
        return sign                             # underflow to a signed zero
    if mant < 1 << 23:                          # subnormal (q == -149)
        return sign | mant
    biased = q + 23 + 127
    if biased >= 255:
        return sign | 0x7F800000                # overflow: infinity
    return sign | (biased << 23) | (mant - (1 << 23))


def binary32_decode(bits):
    """(n, e, negative) with value n * 2^e; raises for infinities and NaNs."""
    neg = bool(bits >> 31)
    exp = (bits >> 23) & 0xFF
    frac = bits & 0x7FFFFF
    if exp == 0xFF:
        raise ValueError("infinity or NaN")
    if exp == 0:
        n, e = frac, -149
    else:
        n, e = frac | 0x800000, exp - 150
    return (-n if neg else n), e, neg


def is_subnormal(bits):
    return (bits >> 23) & 0xFF == 0 and bits & 0x7FFFFF != 0


def fma_exact(a, b, c):
    """The exact value of a*b + c for binary32 patterns a, b, c, as (n, e) meaning n * 2^e, plus whether an exact
    zero result is -0 under IEEE 754-2019 6.3 (the sum of a zero product and a zero c is -0 only when both are -0;
    an exact cancellation of nonzero terms is +0 under round to nearest)."""
    na, ea, sa = binary32_decode(a)
    nb, eb, sb = binary32_decode(b)
    nc, ec, sc = binary32_decode(c)
    p = na * nb
    ep = ea + eb
    if p == 0:
        ep = ec
    if nc == 0:
        ec = ep
    emin = min(ep, ec)
    total = (p << (ep - emin)) + (nc << (ec - emin))
    negzero = total == 0 and p == 0 and nc == 0 and (sa != sb) and sc
    return total, emin, negzero


def fma_binary32(a, b, c, ties_away=False):
    """IEEE 754 fusedMultiplyAdd on binary32 bit patterns (finite operands): a*b + c computed exactly, rounded once
    to nearest (ties to even, or away from zero with ties_away)."""
    total, emin, negzero = fma_exact(a, b, c)
    return round_dyadic_to_binary32(total, emin, negzero, ties_away)


def mul_binary32(a, b):
    """IEEE 754 multiplication a*b rounded to nearest even; the sign of a zero product is the xor of the signs."""
    na, ea, sa = binary32_decode(a)
    nb, eb, sb = binary32_decode(b)
    return round_dyadic_to_binary32(na * nb, ea + eb, sa != sb)


def is_tie(n, e):
    """Whether the exact value n * 2^e lies exactly halfway between two adjacent binary32 values (normal range)."""
    a = abs(n)
    if a == 0:
        return False
    shift = a.bit_length() - 24                 # bits below the 24-bit significand (no subnormals occur here)
    return shift > 0 and a & ((1 << shift) - 1) == 1 << (shift - 1)


def binary32_from_double_struct(x):
    """Independent cross-check: CPython packs a double to binary32 with a C cast (round to nearest even)."""
    try:
        return struct.unpack("<I", struct.pack("<f", x))[0]
    except OverflowError:
        return (0x80000000 if x < 0 else 0) | 0x7F800000


def round_scaled(x, ties_away=False):
    """Binary32 rounding of the integer x read at scale 2^-46 (the value x * 2^-46), returned at the same scale.

    Section 4 (informative) shows that every fp32-ordered accumulator and every exact a*b + c is a multiple of
    2^-46 far inside the normal range, so rounding to binary32 is rounding |x| to 24 significant bits; this is the
    fast path (integers only). The general fma above cross-checks it on every workload small enough."""
    a = -x if x < 0 else x
    s = a.bit_length() - 24
    if s <= 0:
        return x
    q = a >> s
    rem = a - (q << s)
    half = 1 << (s - 1)
    if rem > half or (rem == half and (ties_away or q & 1)):
        q += 1
    return -(q << s) if x < 0 else q << s


def scaled_to_binary32(x):
    """Bit pattern of the (already representable) value x * 2^-46; 0 gives +0."""
    return round_dyadic_to_binary32(x, -46)


# ---------------------------------------------------------------------------------------------------------------
# Section 4: workloads.
GENERAL_FMA_LIMIT = 150000                      # fp32 steps up to which the general fma cross-checks the fast path


class Workload:
    def __init__(self, workload, seed, m, n, k):
        check_shape(workload, m, n, k)
        self.workload, self.seed, self.m, self.n, self.k = workload, seed, m, n, k
        self.key = input_key(seed, workload, m, n, k)
        self.gen_a = MatrixGen(self.key, 0)
        self.gen_b = MatrixGen(self.key, 1)
        self.fp32_steps = 0
        self.fp32_rounded_steps = 0
        self.fp32_general = False

    def a(self, e):
        return self.gen_a.int8(e) if self.workload == WORKLOAD_INT8 else self.gen_a.fp32_bits(e)

    def b(self, e):
        return self.gen_b.int8(e) if self.workload == WORKLOAD_INT8 else self.gen_b.fp32_bits(e)

    def compute_c(self, ties_away=False):
        """C as a row-major list: exact int32 values (int8) or binary32 bit patterns (fp32-ordered). ties_away
        rounds every fp32 step ties away from zero instead (a wrong implementation, for the tie vector)."""
        m, n, k = self.m, self.n, self.k
        if self.workload == WORKLOAD_INT8:
            A = [self.gen_a.int8(e) for e in range(m * k)]
            B = [self.gen_b.int8(e) for e in range(k * n)]
            C = []
            for i in range(m):
                row = A[i * k:(i + 1) * k]
                for j in range(n):
                    s = sum(row[kk] * B[kk * n + j] for kk in range(k))
                    assert -(1 << 31) <= s < (1 << 31)
                    C.append(s)
            return C
        # fp32-ordered: c = +0; for k in [0, K): c = fma(A[i][k], B[k][j], c). Fast path on integers at scale
        # 2^-46 (A, B as integers at scale 2^-23).
        A = [self.gen_a.fp32_int(e) for e in range(m * k)]
        B = [self.gen_b.fp32_int(e) for e in range(k * n)]
        Bcols = [B[j::n] for j in range(n)]
        Cs = []
        for i in range(m):
            row = A[i * k:(i + 1) * k]
            for col in Bcols:
                c = 0
                for x, y in zip(row, col):
                    c = round_scaled(x * y + c, ties_away)
                Cs.append(c)
        C = [scaled_to_binary32(c) for c in Cs]
        if m * n * k <= GENERAL_FMA_LIMIT:
            self.fp32_general = True
            assert C == self._compute_c_general(ties_away), "fast fp32 path differs from the general fma"
        return C

    def _compute_c_general(self, ties_away):
        """fp32-ordered with the general binary32 fma on bit patterns, asserting section 4's claims."""
        m, n, k = self.m, self.n, self.k
        A = [self.gen_a.fp32_bits(e) for e in range(m * k)]
        B = [self.gen_b.fp32_bits(e) for e in range(k * n)]
        for x in A + B:
            assert not is_subnormal(x) and x != 0x80000000
            nx, ex, _ = binary32_decode(x)
            # the mapping is exact: every element is a multiple of 2^-23 in [-1, 1 - 2^-23]
            assert ex >= -23 or nx % (1 << (-23 - ex)) == 0, "element not a multiple of 2^-23"
            assert -1 <= math.ldexp(nx, ex) <= 1 - 2.0 ** -23, "element outside [-1, 1 - 2^-23]"
        C = []
        for i in range(m):
            for j in range(n):
                c = 0                            # +0.0
                for kk in range(k):
                    a, b = A[i * k + kk], B[kk * n + j]
                    total, emin, negzero = fma_exact(a, b, c)
                    c_new = round_dyadic_to_binary32(total, emin, negzero, ties_away)
                    # Section 4 claims: no subnormal ever occurs, every accumulator is a multiple of 2^-46,
                    # and no step produces -0 or a non-finite value. Assert all of it.
                    assert not is_subnormal(c_new), "subnormal accumulator at (%d,%d,k=%d)" % (i, j, kk)
                    assert c_new != 0x80000000, "-0 accumulator"
                    nc, ec, _ = binary32_decode(c_new)
                    assert ec >= -46 or nc % (1 << (-46 - ec)) == 0, "accumulator not a multiple of 2^-46"
                    self.fp32_steps += 1
                    nr, er, _ = binary32_decode(c_new)
                    lo = min(emin, er)
                    if total << (emin - lo) != nr << (er - lo):
                        self.fp32_rounded_steps += 1
                    c = c_new
                C.append(c)
        return C


# ---------------------------------------------------------------------------------------------------------------
# Sections 5-6: tiles and leaves.
SPEC_VERSION = 2
HASH_ID_SHA256 = 1
TILE_SIZES = (8, 16, 32, 64, 128, 256)


def tile_grid(m, n, t):
    return -(-m // t), -(-n // t)


def leaf_header(w, t):
    """Bytes [0, 63) of every leaf of the tree: version, hash id, workload, 0, T, M, N, K, seed, 11 zero bytes."""
    header = struct.pack("<BBBBIIII", SPEC_VERSION, HASH_ID_SHA256, w.workload, 0, t, w.m, w.n, w.k) + w.seed
    header += bytes(11)
    assert len(header) == 63
    return header


def leaf_bytes(w, C, t, r, c, header=None):
    m, n = w.m, w.n
    r0, r1 = r * t, min(m, (r + 1) * t)
    c0, c1 = c * t, min(n, (c + 1) * t)
    if w.workload == WORKLOAD_INT8:             # one byte per element: C mod 2^8
        body = bytes(C[i * n + j] & 0xFF for i in range(r0, r1) for j in range(c0, c1))
        e = 1
    else:                                       # binary32 bits, little-endian
        body = b"".join(struct.pack("<%dI" % (c1 - c0), *C[i * n + c0:i * n + c1]) for i in range(r0, r1))
        e = 4
    assert len(body) == e * (r1 - r0) * (c1 - c0)
    return (header or leaf_header(w, t)) + body + struct.pack("<II", r, c)


def leaf_hashes(w, C, t):
    if t not in TILE_SIZES:
        raise ValueError("T must be a power of two in [8, 256]")
    tr, tc = tile_grid(w.m, w.n, t)
    header = leaf_header(w, t)
    # 0x00 || header is the first SHA-256 block of every leaf of this tree: hash it once and continue from a copy.
    first = hashlib.sha256(b"\x00" + header)
    out = []
    for r in range(tr):
        for c in range(tc):                     # leaf index r * tc + c
            data = leaf_bytes(w, C, t, r, c, header)
            h = first.copy()
            h.update(data[63:])
            out.append(h.digest())
    return out


# ---------------------------------------------------------------------------------------------------------------
# Section 7.1: RFC 6962 Merkle tree hash.
def sha256(b):
    return hashlib.sha256(b).digest()


def LEAF(data):
    return sha256(b"\x00" + data)


def NODE(l, r):
    assert len(l) == 32 and len(r) == 32
    return sha256(b"\x01" + l + r)


def split_point(n):
    """The largest power of two k with k < n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth_from_leaf_hashes(hs, lo=0, hi=None):
    """MTH(D[lo:hi]) given the leaf hashes, by the recursive definition."""
    if hi is None:
        hi = len(hs)
    n = hi - lo
    if n == 0:
        return sha256(b"")
    if n == 1:
        return hs[lo]
    k = split_point(n)
    return NODE(mth_from_leaf_hashes(hs, lo, lo + k), mth_from_leaf_hashes(hs, lo + k, hi))


def mth_levels(hs):
    """The informative level representation of 7.1 (for cross-checking only)."""
    level = list(hs)
    if not level:
        return sha256(b"")
    while len(level) > 1:
        nxt = [NODE(level[2 * j], level[2 * j + 1]) for j in range(len(level) // 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


# Section 7.2: inclusion proofs.
def audit_path(hs, m, lo=0, hi=None):
    if hi is None:
        hi = len(hs)
    n = hi - lo
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return audit_path(hs, m, lo, lo + k) + [mth_from_leaf_hashes(hs, lo + k, hi)]
    return audit_path(hs, m - k, lo + k, hi) + [mth_from_leaf_hashes(hs, lo, lo + k)]


def verify_inclusion(m, n, leaf_hash, path, root):
    if m >= n:
        return False
    fn, sn, r = m, n - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = NODE(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = NODE(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# Section 7.3: multiproofs.
def multiproof(hs, S, lo=0, hi=None):
    """MP(D[lo:hi], S) with S the (absolute) opened indices in [lo, hi), nonempty and strictly increasing."""
    if hi is None:
        hi = len(hs)
    n = hi - lo
    if n == 1:
        return []
    mid = lo + split_point(n)
    cut = bisect.bisect_left(S, mid)
    L, R = S[:cut], S[cut:]
    left = multiproof(hs, L, lo, mid) if L else [mth_from_leaf_hashes(hs, lo, mid)]
    right = multiproof(hs, R, mid, hi) if R else [mth_from_leaf_hashes(hs, mid, hi)]
    return left + right


def multiproof_ranges(n, S, lo=0, hi=None):
    """The leaf ranges [lo, hi) of the hashes of MP, in MP order (used by the self-test)."""
    if hi is None:
        hi = n
    if hi - lo == 1:
        return []
    mid = lo + split_point(hi - lo)
    cut = bisect.bisect_left(S, mid)
    L, R = S[:cut], S[cut:]
    return ((multiproof_ranges(n, L, lo, mid) if L else [(lo, mid)]) +
            (multiproof_ranges(n, R, mid, hi) if R else [(mid, hi)]))


def multiproof_count(n, S):
    """Number of hashes MP(D[0:n], S) has; depends on (n, S) only. Works for any u64 n (recursion depth <= 64)."""
    def count(lo, hi, a, b):                     # S[a:b] are the indices in [lo, hi), a < b
        if hi - lo == 1:
            return 0
        mid = lo + split_point(hi - lo)
        cut = bisect.bisect_left(S, mid, a, b)
        return ((count(lo, mid, a, cut) if cut > a else 1) +
                (count(mid, hi, cut, b) if b > cut else 1))
    return count(0, n, 0, len(S))


class ProofError(Exception):
    pass


def verify_multi(n, S, leaf_hashes_, hashes, root):
    """Section 7.3 verification; returns None on success, raises ProofError with the reason otherwise."""
    if n < 1:
        raise ProofError("tree size is 0")
    if len(S) < 1:
        raise ProofError("no index given")
    for i in range(1, len(S)):
        if S[i] <= S[i - 1]:
            raise ProofError("indices not strictly increasing at position %d" % i)
    if any(s < 0 or s >= n for s in S):
        raise ProofError("index out of range")
    if len(leaf_hashes_) != len(S):
        raise ProofError("%d leaf hashes for %d indices" % (len(leaf_hashes_), len(S)))
    state = {"next": 0}

    def take():
        if state["next"] == len(hashes):
            raise ProofError("too few hashes")
        h = hashes[state["next"]]
        state["next"] += 1
        return h

    def walk(lo, hi, a, b):                      # S[a:b], leaf_hashes_[a:b] lie in [lo, hi); nonempty
        if hi - lo == 1:
            return leaf_hashes_[a]
        mid = lo + split_point(hi - lo)
        cut = bisect.bisect_left(S, mid, a, b)
        left = walk(lo, mid, a, cut) if cut > a else take()
        right = walk(mid, hi, cut, b) if b > cut else take()
        return NODE(left, right)

    r = walk(0, n, 0, len(S))
    if state["next"] != len(hashes):
        raise ProofError("too many hashes (%d used of %d)" % (state["next"], len(hashes)))
    if r != root:
        raise ProofError("root mismatch: recomputed %s, expected %s" % (r.hex(), root.hex()))


# Section 7.4: multiproof file format v2.
MP_MAGIC = b"VCPM"
MP_VERSION = 2
MP_HEADER = 18                                  # magic 4, version 1, hash id 1, n 8, c 4


def serialize_multiproof(n, S, hashes):
    out = [MP_MAGIC, struct.pack("<BBQI", MP_VERSION, HASH_ID_SHA256, n, len(S))]
    out += [struct.pack("<Q", s) for s in S]
    out.append(struct.pack("<I", len(hashes)))
    out += list(hashes)
    return b"".join(out)


def parse_multiproof(data):
    """Returns (n, S, hashes); raises ProofError naming the field, offset or value."""
    pos = 0

    def need(size, field):
        if len(data) - pos < size:
            raise ProofError("truncated: %s at offset %d needs %d bytes, %d remain"
                             % (field, pos, size, len(data) - pos))

    need(4, "magic")
    if data[0:4] != MP_MAGIC:
        raise ProofError("bad magic %r at offset 0" % data[0:4])
    pos = 4
    need(1, "version")
    if data[4] != MP_VERSION:
        raise ProofError("unsupported version %d at offset 4 (this is version 2)" % data[4])
    pos = 5
    need(1, "hash id")
    if data[5] != HASH_ID_SHA256:
        raise ProofError("unknown hash id %d at offset 5 (1 = SHA-256 is the only one)" % data[5])
    pos = 6
    need(8, "tree size")
    n = struct.unpack_from("<Q", data, 6)[0]
    if n == 0:
        raise ProofError("tree size n = 0 at offset 6")
    pos = 14
    need(4, "index count")
    c = struct.unpack_from("<I", data, 14)[0]
    pos = MP_HEADER
    if c == 0:
        raise ProofError("index count c = 0 at offset 14")
    if 8 * c > len(data) - pos:
        raise ProofError("index count c = %d needs %d bytes, only %d remain after offset %d"
                         % (c, 8 * c, len(data) - pos, pos))
    S = []
    for i in range(c):
        s = struct.unpack_from("<Q", data, pos)[0]
        if s >= n:
            raise ProofError("index %d = %d at offset %d is >= n = %d" % (i, s, pos, n))
        if S and s <= S[-1]:
            raise ProofError("index %d = %d at offset %d is not greater than %d" % (i, s, pos, S[-1]))
        S.append(s)
        pos += 8
    need(4, "hash count")
    h = struct.unpack_from("<I", data, pos)[0]
    expected = multiproof_count(n, S)
    if h != expected:
        raise ProofError("hash count h = %d at offset %d, but MP has %d hashes for this n and S"
                         % (h, pos, expected))
    pos += 4
    if len(data) - pos < 32 * h:
        raise ProofError("truncated: %d hashes at offset %d need %d bytes, %d remain"
                         % (h, pos, 32 * h, len(data) - pos))
    hashes = [bytes(data[pos + 32 * i:pos + 32 * i + 32]) for i in range(h)]
    pos += 32 * h
    if pos != len(data):
        raise ProofError("%d trailing bytes at offset %d" % (len(data) - pos, pos))
    return n, S, hashes


# ---------------------------------------------------------------------------------------------------------------
# Self-test harness.
class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS  %s" % name)
        else:
            self.failed += 1
            print("FAIL  %s%s" % (name, (": " + detail) if detail else ""))
        return ok


def check_philox(ck):
    kats = [
        ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
         (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
        ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
         (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
        ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
         (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
    ]
    for i, (ctr, key, want) in enumerate(kats):
        got = philox4x32_10(ctr, key)
        ck.check("philox4x32-10 known answer %d (9.1)" % (i + 1), got == want,
                 "got %s" % " ".join("%08x" % x for x in got))


def check_rounding(ck):
    """The general binary32 rounding and fma against handpicked cases and CPython's own double->float cast."""
    R = round_dyadic_to_binary32
    cases = [
        ((1, 0), 0x3F800000), ((-1, 0), 0xBF800000), ((1, -149), 0x00000001), ((1, -150), 0x00000000),
        ((3, -151), 0x00000001), ((-1, -150), 0x80000000), ((3, -150), 0x00000002),   # ties to even
        ((1, -126), 0x00800000), (((1 << 24) - 1, -150), 0x00800000),                  # subnormal -> normal carry
        (((1 << 23) - 1, -149), 0x007FFFFF), (((1 << 25) + 1, 0), 0x4C000000),        # 2^25+1 -> 2^25
        (((1 << 24) + 1, 0), 0x4B800000), (((1 << 24) + 3, 0), 0x4B800002),
        (((1 << 24) - 1, 104), 0x7F7FFFFF), (((1 << 25) - 1, 103), 0x7F800000),       # FLT_MAX / overflow tie
        (((1 << 26) - 3, 102), 0x7F7FFFFF), ((1, 128), 0x7F800000), ((-1, 200), 0xFF800000),
    ]
    bad = [(args, want, R(*args)) for args, want in cases if R(*args) != want]
    ck.check("binary32 rounding: %d handpicked cases (ties, subnormals, carries, overflow)" % len(cases), not bad,
             repr(bad[:3]))
    rng = random.Random(1)
    bad = []
    trials = 20000
    for _ in range(trials):
        nbits = rng.randint(1, 53)
        nn = rng.getrandbits(nbits) | 1 << (nbits - 1)
        if rng.random() < 0.3:                  # bias towards exact ties
            nn = (nn >> 2 << 2) | 2 if nbits > 26 else nn
        if rng.random() < 0.5:
            nn = -nn
        ee = rng.randint(-200, 140) - nbits
        x = math.ldexp(nn, ee)                  # exact: |nn| < 2^53, well inside double's range
        if x == 0 or math.isinf(x) or abs(x) < 2.0 ** -1022:
            continue
        if R(nn, ee) != binary32_from_double_struct(x):
            bad.append((nn, ee))
    ck.check("binary32 rounding agrees with CPython's double->float cast on %d random values" % trials, not bad,
             repr(bad[:3]))
    F = fma_binary32
    one, mone, pz, nz = 0x3F800000, 0xBF800000, 0x00000000, 0x80000000
    tiny = 0x00000001
    half_ulp_1 = 0x33800000                     # 2^-24
    fcases = [
        (F(one, one, mone), pz, "1*1 + -1 = +0"),
        (F(pz, mone, pz), pz, "(+0*-1) + +0 = +0"),
        (F(pz, mone, nz), nz, "(+0*-1) + -0 = -0"),
        (F(nz, nz, nz), pz, "(-0*-0) + -0 = +0"),
        (F(tiny, one, pz), tiny, "subnormal passes exactly"),
        (F(0x00800000, 0x3F000000, pz), 0x00400000, "2^-126 * 0.5 = subnormal 2^-127"),
        (F(tiny, 0x3F000000, pz), pz, "2^-150 tie rounds to +0"),
        (F(tiny, 0xBF000000, pz), nz, "-2^-150 rounds to -0 (underflow keeps the sign)"),
        (F(one, half_ulp_1, one), one, "1 + 2^-24 tie to even -> 1"),
        (F(one, half_ulp_1, one, True), 0x3F800001, "1 + 2^-24 tie away from zero -> 1 + 2^-23"),
        (F(mone, half_ulp_1, mone, True), 0xBF800001, "-1 - 2^-24 tie away from zero -> -(1 + 2^-23)"),
        (F(0x3F800001, half_ulp_1, 0x3F800001), 0x3F800002, "(1+u) + 2^-24 tie to even -> 1+2u"),
        (F(0x3F800001, 0x3F800001, 0xBF800000), 0x34800000, "(1+2^-23)^2 - 1 = 2^-22 + 2^-46: tie to even -> 2^-22"),
        (F(0x3F800800, 0x3F800800, 0xBF800000), 0x3A000400, "fused: (1+2^-12)^2 - 1 = 2^-11 + 2^-24 exactly "
                                                            "(an unfused multiply would round to 2^-11)"),
    ]
    bad = [(msg, "%08x" % got, "%08x" % want) for got, want, msg in fcases if got != want]
    ck.check("binary32 fma: %d handpicked cases (signed zeros, underflow, ties, single rounding)" % len(fcases),
             not bad, repr(bad))


def check_ct_vectors(ck):
    leaves = [bytes.fromhex(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"]]
    want = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
    hs = [LEAF(x) for x in leaves]
    bad = []
    for n in range(9):
        r1 = mth_from_leaf_hashes(hs[:n])
        r2 = mth_levels(hs[:n])
        if r1.hex() != want[n] or r2 != r1:
            bad.append(n)
    ck.check("RFC 6962 Merkle tree hash: Certificate Transparency known answers n = 0..8 (7.1)", not bad,
             "mismatch for n in %s" % bad)
    a, b, c, d, e = hs[:5]
    ck.check("7.1 example: n = 5 root is NODE(NODE(NODE(a,b),NODE(c,d)),e)",
             mth_from_leaf_hashes(hs[:5]) == NODE(NODE(NODE(a, b), NODE(c, d)), e))


SPEC_92 = {"seed": bytes(range(32)), "m": 40, "n": 72, "k": 33, "tile": 16}
WORKLOAD_IDS = {"int8": WORKLOAD_INT8, "fp32-ordered": WORKLOAD_FP32}


def workload_id(v):
    """A vector's workload: its name ("int8", "fp32-ordered") or its id (1, 2)."""
    if isinstance(v, int):
        if v not in WORKLOAD_NAMES:
            raise ValueError("unknown workload id %d" % v)
        return v
    return WORKLOAD_IDS[v]


def element_hex(wid, v):
    return v if wid == WORKLOAD_INT8 else "%08x" % v


def tree_of(w, C, t):
    """(leaf hashes, root) of C, checking that every leaf starts with the tree's shared first block."""
    hs = leaf_hashes(w, C, t)
    tr, tc = tile_grid(w.m, w.n, t)
    last = leaf_bytes(w, C, t, tr - 1, tc - 1)
    assert LEAF(last) == hs[-1] and LEAF(leaf_bytes(w, C, t, 0, 0)) == hs[0], "shared first block shortcut"
    return hs, mth_from_leaf_hashes(hs)


def check_workload(ck, name, vec):
    wid = WORKLOAD_IDS[name]
    seed = bytes.fromhex(vec["seed"])
    m, n, k, t = vec["m"], vec["n"], vec["k"], vec["tile"]
    ck.check("%s: vector parameters are those of section 9.2 (seed 00..1f, 40 x 72 x 33, T = 16)" % name,
             (seed, m, n, k, t) == (SPEC_92["seed"], SPEC_92["m"], SPEC_92["n"], SPEC_92["k"], SPEC_92["tile"]))
    w = Workload(wid, seed, m, n, k)
    key = ["%08x" % x for x in w.key]
    ck.check("%s: Philox key k0 k1" % name, key == [x.lower() for x in vec["philox_key"]],
             "got %s" % " ".join(key))
    a8 = [element_hex(wid, w.a(e)) for e in range(8)]
    b8 = [element_hex(wid, w.b(e)) for e in range(8)]
    want_a = [x if wid == WORKLOAD_INT8 else x.lower() for x in vec["a_first8"]]
    want_b = [x if wid == WORKLOAD_INT8 else x.lower() for x in vec["b_first8"]]
    ck.check("%s: A elements [0, 8)" % name, a8 == want_a, "got %s" % a8)
    ck.check("%s: B elements [0, 8)" % name, b8 == want_b, "got %s" % b8)
    t0 = time.time()
    C = w.compute_c()
    dt = time.time() - t0
    if wid == WORKLOAD_FP32:
        ck.check("%s: %d fma steps (%d rounded) by the general fma equal the fast path; no subnormal, no -0, every "
                 "accumulator a multiple of 2^-46 (section 4 claims asserted on every step; %.2f s)"
                 % (name, w.fp32_steps, w.fp32_rounded_steps, dt), w.fp32_general and w.fp32_steps == m * n * k)
    tr, tc = tile_grid(m, n, t)
    ck.check("%s: %d x %d = %d tiles" % (name, tr, tc, tr * tc), (tr, tc) == (3, 5))
    hs, root = tree_of(w, C, t)
    want = vec["leaf_hashes"]
    ck.check("%s: leaf count" % name, len(hs) == len(want), "got %d, vectors have %d" % (len(hs), len(want)))
    for i, h in enumerate(hs):
        ck.check("%s: leaf hash %2d (tile %d,%d)" % (name, i, i // tc, i % tc),
                 i < len(want) and h.hex() == want[i].lower(), "got %s" % h.hex())
    ck.check("%s: root" % name, root.hex() == vec["root"].lower(), "got %s" % root.hex())
    ck.check("%s: root by the level representation (7.1, informative) equals the recursive MTH" % name,
             mth_levels(hs) == root)
    if wid == WORKLOAD_INT8:
        # Section 6: a leaf commits C mod 2^8 only. A C that differs in the high 24 bits has the same leaves, and
        # one that differs in any low bit does not.
        hi = [x + (1 << 8) * ((x * 7) % 5 - 2) for x in C]
        lo = list(C)
        lo[5 * n + 3] ^= 1
        ck.check("%s: leaves bind C mod 2^8 only (high bits changed: same root; one low bit flipped: other root)"
                 % name, tree_of(w, hi, t)[1] == root and tree_of(w, lo, t)[1] != root)
    return hs, root


def check_proof_vectors(ck, vec, trees):
    """Section 9.3: inclusion paths, a multiproof and its file, byte for byte."""
    name = vec.get("workload", "int8")
    hs, root = trees[name]
    n = len(hs)
    incl = vec["inclusion"]
    ck.check("proofs: inclusion paths given for leaves 0, 5, 14", [x["leaf"] for x in incl] == [0, 5, 14],
             "got %s" % [x["leaf"] for x in incl])
    for x in incl:
        m = x["leaf"]
        path = audit_path(hs, m)
        want = [bytes.fromhex(h) for h in x["path"]]
        ck.check("proofs: inclusion path of leaf %d (%d hashes, bottom-up) equals PATH(%d, D[0:%d]) and verifies"
                 % (m, len(path), m, n), path == want and verify_inclusion(m, n, hs[m], want, root),
                 "got %s" % [h.hex() for h in path])
    mp = vec["multiproof"]
    S = mp["indices"]
    ck.check("proofs: multiproof indices are [1, 6, 7, 14]", S == [1, 6, 7, 14], "got %s" % S)
    proof = multiproof(hs, S)
    want = [bytes.fromhex(h) for h in mp["hashes"]]
    try:
        verify_multi(n, S, [hs[i] for i in S], want, root)
        verified = True
    except ProofError:
        verified = False
    ck.check("proofs: multiproof hashes (%d) equal MP(D[0:%d], S) and verify" % (len(proof), n),
             proof == want and verified, "got %s" % [h.hex() for h in proof])
    blob = serialize_multiproof(n, S, proof)
    ck.check("proofs: multiproof file (%d bytes) byte for byte" % len(blob),
             blob.hex() == vec["multiproof_file"].lower(), "got %s" % blob.hex())
    try:
        parsed = parse_multiproof(bytes.fromhex(vec["multiproof_file"]))
    except ProofError as ex:
        parsed = str(ex)
    ck.check("proofs: the vector's file parses to (n, S, hashes)", parsed == (n, S, proof), "got %s" % (parsed,))


def check_leaf_sizes(ck):
    """Section 6.3's table of compressions per full-tile leaf (first block excluded) and the 72-byte minimum."""
    table = {8: (2, 5), 16: (5, 17), 32: (17, 65), 64: (65, 257)}
    got = {}
    for t in table:
        counts = []
        for wid in (WORKLOAD_INT8, WORKLOAD_FP32):
            w = Workload(wid, bytes(32), t, t, 1)
            C = [0] * (t * t)
            leaf = leaf_bytes(w, C, t, 0, 0)
            assert (b"\x00" + leaf)[:64] == b"\x00" + leaf_header(w, t)
            counts.append(-(-(1 + len(leaf) + 9) // 64) - 1)
        got[t] = tuple(counts)
    w = Workload(WORKLOAD_INT8, bytes(32), 9, 9, 1)
    smallest = len(leaf_bytes(w, [0] * 81, 8, 1, 1))
    ck.check("leaf sizes: compressions per full leaf after the shared first block (6.3 table: int8, fp32) %s; "
             "a 1 x 1 leaf is 72 bytes" % got, got == table and smallest == 72,
             "smallest leaf %d bytes" % smallest)


def check_shapes(ck, shapes):
    """Section 9.4: roots at T = 8, 32 and 256 and K = 1 (edge tiles of every kind)."""
    want_shapes = [("int8", 20, 12, 5, 8), ("int8", 70, 33, 40, 32), ("fp32-ordered", 70, 33, 40, 32),
                   ("int8", 300, 260, 3, 256), ("fp32-ordered", 300, 260, 3, 256), ("int8", 9, 9, 1, 8)]
    got_shapes = [(WORKLOAD_NAMES[workload_id(x["workload"])], x["m"], x["n"], x["k"], x["tile"]) for x in shapes]
    ck.check("shapes: the six shapes of section 9.4", got_shapes == want_shapes, "got %s" % got_shapes)
    for x in shapes:
        wid = workload_id(x["workload"])
        t0 = time.time()
        w = Workload(wid, bytes.fromhex(x["seed"]), x["m"], x["n"], x["k"])
        hs, root = tree_of(w, w.compute_c(), x["tile"])
        ck.check("shapes: %s %d x %d x %d, T = %d: %d leaves, root (%.2f s)"
                 % (WORKLOAD_NAMES[wid], w.m, w.n, w.k, x["tile"], len(hs), time.time() - t0),
                 len(hs) == x["leaf_count"] and root.hex() == x["root"].lower(),
                 "got %d leaves, root %s" % (len(hs), root.hex()))


def fp32_chain(w, i, j, ties_away=False):
    """The chain of C[i][j] with the general fma: (final bits, [k of every exactly tied step])."""
    c, ties = 0, []
    for kk in range(w.k):
        a, b = w.gen_a.fp32_bits(i * w.k + kk), w.gen_b.fp32_bits(kk * w.n + j)
        total, emin, negzero = fma_exact(a, b, c)
        if is_tie(total, emin):
            ties.append(kk)
        c = round_dyadic_to_binary32(total, emin, negzero, ties_away)
    return c, ties


def check_fp32_tie(ck, x):
    """Section 9.5: a rounding tie that survives to the output (ties away from zero must fail the vector)."""
    w = Workload(WORKLOAD_FP32, bytes.fromhex(x["seed"]), x["m"], x["n"], x["k"])
    i, j, step, t = x["i"], x["j"], x["step"], x["tile"]
    C = w.compute_c()
    hs, root = tree_of(w, C, t)
    ck.check("fp32_tie: root (%d x %d x %d, T = %d)" % (w.m, w.n, w.k, t), root.hex() == x["root"].lower(),
             "got %s" % root.hex())
    even, ties = fp32_chain(w, i, j)
    away, ties_a = fp32_chain(w, i, j, ties_away=True)
    ck.check("fp32_tie: step k = %d of C[%d][%d] is an exact tie (a*b + c exactly halfway between two binary32 "
             "values), the only one in its chain" % (step, i, j), ties == [step] and ties_a == [step],
             "tied steps: %s (ties-away chain: %s)" % (ties, ties_a))
    ck.check("fp32_tie: C[%d][%d] = %08x (ties to even) and %08x (ties away from zero), and they differ"
             % (i, j, even, away), "%08x" % even == x["c_ties_even"].lower() and
             "%08x" % away == x["c_ties_away"].lower() and even != away and C[i * w.n + j] == even,
             "got %08x / %08x" % (even, away))
    hs_away, root_away = tree_of(w, w.compute_c(ties_away=True), t)
    ck.check("fp32_tie: an implementation rounding ties away from zero gets another root", root_away != root)
    seed = struct.unpack_from("<I", w.seed)[0]
    found = find_fp32_tie(w.m, w.n, w.k, t, seed + 1) if w.seed == counter_seed(seed) else None
    ck.check("fp32_tie: found_by holds: seed u32 %d is the smallest search seed with such an element, and (%d, %d) "
             "the first" % (seed, i, j), found is not None and (found[0].seed, found[2:5]) == (w.seed, (i, j, step)),
             "search found seed %s, (i, j, step) %s" % (found[0].seed.hex(), found[2:5]) if found
             else "search found nothing")


def check_fp32_zero(ck, x):
    """Section 9.6: an input exactly 0, a -0 product, and C still never -0."""
    w = Workload(WORKLOAD_FP32, bytes.fromhex(x["seed"]), x["m"], x["n"], x["k"])
    z, t = x["a_zero_index"], x["tile"]
    ck.check("fp32_zero: K = 1", w.k == 1, "got K = %d" % w.k)
    i = z // w.k
    ok = w.a(z) == 0 and w.gen_a.fp32_int(z) == 0
    ck.check("fp32_zero: A element %d is +0 (w >> 8 = 2^23)" % z, ok, "got %08x" % w.a(z))
    negatives = [j for j in range(w.n) if mul_binary32(w.a(z), w.b(z % w.k * w.n + j)) == 0x80000000]
    ck.check("fp32_zero: %d products A[%d][0] * B[0][j] are -0 (the first at j = %d)"
             % (len(negatives), i, negatives[0] if negatives else -1), negatives)
    C = w.compute_c()
    hs, root = tree_of(w, C, t)
    ck.check("fp32_zero: root; no element of C is -0, C[%d][j] = +0 for every j" % i,
             root.hex() == x["root"].lower() and 0x80000000 not in C and
             all(C[i * w.n + j] == 0 for j in negatives), "got %s" % root.hex())
    # "c = a*b, then fma for k >= 1" (a different, wrong chain) gives -0 where the product is -0.
    wrong = [mul_binary32(w.a(r * w.k), w.b(j)) for r in range(w.m) for j in range(w.n)]
    ck.check("fp32_zero: an implementation starting from c = a*b writes -0 and gets another root",
             0x80000000 in wrong and tree_of(w, wrong, t)[1] != root)


def check_philox_high_word(ck, entries):
    """Section 9.7: elements of blocks >= 2^32 (the counter's second word c1 nonzero), generated directly."""
    kinds = [WORKLOAD_NAMES[workload_id(e["workload"])] for e in entries]
    ck.check("philox_high_word: one int8 and one fp32-ordered entry", sorted(kinds) == ["fp32-ordered", "int8"],
             "got %s" % kinds)
    for e in entries:
        wid = workload_id(e["workload"])
        w = Workload(wid, bytes.fromhex(e["seed"]), e["m"], e["n"], e["k"])
        per_block = 16 if wid == WORKLOAD_INT8 else 4
        for el in e["elements"]:
            idx = el["index"]
            got = w.a(idx)
            want = el["value"] if wid == WORKLOAD_INT8 else int(el["value"], 16)
            ck.check("philox_high_word: %s %d x %d x %d, A element %d (block %d = 2^32 + %d)"
                     % (WORKLOAD_NAMES[wid], w.m, w.n, w.k, idx, idx // per_block, idx // per_block - (1 << 32)),
                     idx < w.m * w.k and el["block"] == idx // per_block and el["block"] >= 1 << 32 and got == want,
                     "got %s, block %d" % (element_hex(wid, got), idx // per_block))


def check_proofs(ck, name, hs, root):
    n = len(hs)
    # 7.2 inclusion proofs for every leaf, and a couple of negative cases.
    ok = True
    for m in range(n):
        p = audit_path(hs, m)
        ok &= len(p) <= (n - 1).bit_length()
        ok &= verify_inclusion(m, n, hs[m], p, root)
        ok &= not verify_inclusion(m, n, hs[(m + 1) % n], p, root)
        ok &= not verify_inclusion(m, n, hs[m], p[:-1], root) if p else True
        ok &= not verify_inclusion(m, n, hs[m], p + [root], root)
    ok &= not verify_inclusion(n, n, hs[0], audit_path(hs, 0), root)
    ck.check("%s: inclusion proofs (7.2) of all %d leaves verify; wrong leaf, short, long, out-of-range fail"
             % (name, n), ok)

    rng = random.Random(7)
    index_sets = [[0], [n - 1], [5], [3, 7], [0, n - 1], [1, 2, 5, 8, 13], [8, 9, 10, 11, 12, 13, 14],
                  list(range(n))]
    index_sets += [sorted(rng.sample(range(n), rng.randint(1, n))) for _ in range(4)]
    caveat_hits = []
    for S in index_sets:
        label = "%s: multiproof S = %s" % (name, S if len(S) <= 8 else "%d indices" % len(S))
        proof = multiproof(hs, S)
        ranges = multiproof_ranges(n, S)
        problems = []
        # the hashes are the MTHs of disjoint unopened ranges, left to right, covering all unopened leaves
        covered = [x for lo, hi in ranges for x in range(lo, hi)]
        if covered != sorted(set(range(n)) - set(S)):
            problems.append("ranges do not tile the unopened leaves in order")
        if [mth_from_leaf_hashes(hs, lo, hi) for lo, hi in ranges] != proof:
            problems.append("hash/range mismatch")
        if len(proof) != multiproof_count(n, S):
            problems.append("count mismatch")
        if len(proof) > min(n - len(S), len(S) * (n - 1).bit_length()):
            problems.append("count above the bound of 7.3")
        if len(S) == 1:
            ap = audit_path(hs, S[0])
            if sorted(ap) != sorted(proof) or len(ap) != len(proof):
                problems.append("single-leaf MP is not the audit path's hashes")
        blob = serialize_multiproof(n, S, proof)
        if len(blob) != MP_HEADER + 4 + 8 * len(S) + 32 * len(proof):
            problems.append("file size")
        try:
            pn, pS, ph = parse_multiproof(blob)
            if (pn, pS, ph) != (n, S, proof):
                problems.append("parse(serialize(x)) != x")
            verify_multi(pn, pS, [hs[i] for i in pS], ph, root)
        except ProofError as ex:
            problems.append("honest proof rejected: %s" % ex)
        # Every flipped byte (xor 0x01 and xor 0xff), every truncation and a trailing byte must be rejected,
        # either by the parser or by 7.3 verification with the verifier's own leaf hashes and the root.
        accepted = []
        variants = [(("flip%02x@%d" % (x, i)), blob[:i] + bytes([blob[i] ^ x]) + blob[i + 1:])
                    for i in range(len(blob)) for x in (0x01, 0xFF)]
        variants += [("truncate@%d" % i, blob[:i]) for i in range(len(blob))]
        variants += [("trailing", blob + b"\x00")]
        size_only = []
        for vname, v in variants:
            try:
                pn, pS, ph = parse_multiproof(v)
                if pS != S:
                    raise ProofError("not the requested indices")
                # 7.3/7.4: a multiproof binds n only through the root, so the verifier checks the file's n
                # against the committed tree size itself (the signed commitment fixes n).
                if pn != n:
                    try:
                        verify_multi(pn, pS, [hs[i] for i in pS], ph, root)
                        size_only.append(vname)
                    except ProofError:
                        pass
                    raise ProofError("tree size %d differs from the committed %d" % (pn, n))
                verify_multi(pn, pS, [hs[i] for i in pS], ph, root)
                accepted.append(vname)
            except ProofError:
                pass
        if accepted:
            problems.append("corrupted files accepted: %s" % accepted[:4])
        if size_only:
            caveat_hits.append((S, size_only))
        # verification of the parsed proof with a wrong leaf hash must fail too
        try:
            verify_multi(n, S, [hs[(i + 1) % n] if j == 0 else hs[i] for j, i in enumerate(S)], proof, root)
            problems.append("wrong leaf hash accepted")
        except ProofError:
            pass
        ck.check("%s: %d hashes; produce, serialize (%d bytes), parse, verify; %d corrupted variants rejected"
                 % (label, len(proof), len(blob), len(variants)), not problems, "; ".join(problems))

    # The caveat of 7.2/7.3 ("binds the tree size only through the root") is real: with n = 15, a file whose n
    # byte is flipped to 14 still verifies against the n = 15 root for some S; only the committed n catches it.
    ck.check("%s: 7.3 caveat reproduced: %d of the index sets have a file with a different n that passes 7.3 "
             "against the same root (e.g. %s); rejected only by comparing n with the committed tree size"
             % (name, len(caveat_hits), caveat_hits[0] if caveat_hits else None), len(caveat_hits) > 0)

    # 7.4 parser rejection rules, one by one, on a valid file.
    S = [1, 2, 5, 8, 13]
    proof = multiproof(hs, S)
    good = serialize_multiproof(n, S, proof)

    def rejects(blob, needle):
        try:
            parse_multiproof(blob)
            return False
        except ProofError as ex:
            return needle in str(ex)

    hoff = MP_HEADER + 8 * len(S)
    cases = [
        ("1 truncated header", good[:3], "truncated"),
        ("1 bad magic", b"VCPN" + good[4:], "magic"),
        ("2 version 1", good[:4] + b"\x01" + good[5:], "version"),
        ("2 version 3", good[:4] + b"\x03" + good[5:], "version"),
        ("2 hash id 0", good[:5] + b"\x00" + good[6:], "hash id"),
        ("2 hash id 2", good[:5] + b"\x02" + good[6:], "hash id"),
        ("2 truncated before the hash id", good[:5], "truncated"),
        ("3 n = 0", good[:6] + struct.pack("<Q", 0) + good[14:], "n = 0"),
        ("4 c = 0", good[:14] + struct.pack("<I", 0) + good[18:], "c = 0"),
        ("4 c too large", good[:14] + struct.pack("<I", 0xFFFFFFFF) + good[18:], "remain"),
        ("5 index >= n", good[:18] + struct.pack("<Q", n) + good[26:], ">= n"),
        ("5 index not increasing", serialize_multiproof(n, [2, 2], proof), "not greater"),
        ("6 hash count wrong", good[:hoff] + struct.pack("<I", len(proof) + 1) + good[hoff + 4:], "hash count"),
        ("6 huge hash count", good[:hoff] + struct.pack("<I", 0xFFFFFFFF) + good[hoff + 4:], "hash count"),
        ("7 hashes truncated", good[:-1], "truncated"),
        ("8 trailing bytes", good + b"\x00", "trailing"),
    ]
    bad = [c[0] for c in cases if not rejects(c[1], c[2])]
    ck.check("%s: multiproof file parser rejection rules 1-8 of 7.4 (%d cases)" % (name, len(cases)), not bad,
             "not rejected as expected: %s" % bad)
    vcases = [
        ("n = 0", lambda: verify_multi(0, [0], [hs[0]], [], root)),
        ("no index", lambda: verify_multi(n, [], [], proof, root)),
        ("unsorted", lambda: verify_multi(n, [2, 1], [hs[2], hs[1]], proof, root)),
        ("out of range", lambda: verify_multi(n, [n], [hs[0]], proof, root)),
        ("leaf hash count", lambda: verify_multi(n, S, [hs[i] for i in S[:-1]], proof, root)),
        ("too few hashes", lambda: verify_multi(n, S, [hs[i] for i in S], proof[:-1], root)),
        ("too many hashes", lambda: verify_multi(n, S, [hs[i] for i in S], proof + [root], root)),
        ("wrong root", lambda: verify_multi(n, S, [hs[i] for i in S], proof, hs[0])),
    ]
    bad = []
    for cname, fn in vcases:
        try:
            fn()
            bad.append(cname)
        except ProofError:
            pass
    ck.check("%s: multiproof verifier rejection rules of 7.3 (%d cases)" % (name, len(vcases)), not bad,
             "accepted: %s" % bad)
    # The count function must work for u64 tree sizes without building anything.
    big = (1 << 64) - 1
    cnt = multiproof_count(big, [0, 12345, big - 1])
    ck.check("%s: MP hash count for n = 2^64 - 1 computed without allocation (%d hashes)" % (name, cnt),
             0 < cnt <= 3 * 64)


def resolve_path(p):
    if os.path.isabs(p) or os.path.exists(p):
        return p
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, p)


# ---------------------------------------------------------------------------------------------------------------
# --generate: the same keys, computed here. Seeds of the searched vectors come from a counter (u64 little-endian
# in the first 8 bytes, the rest zero); the engine's generator may find other seeds, and --check accepts any.
SHAPE_SEED = bytes(i * 7 % 256 for i in range(32))
SHAPES = [("int8", 20, 12, 5, 8), ("int8", 70, 33, 40, 32), ("fp32-ordered", 70, 33, 40, 32),
          ("int8", 300, 260, 3, 256), ("fp32-ordered", 300, 260, 3, 256), ("int8", 9, 9, 1, 8)]


def counter_seed(s):
    """The search seeds of 9.5 and 9.6: u32 s little-endian, then 28 zero bytes."""
    return struct.pack("<I", s) + bytes(28)


def find_fp32_tie(m=16, n=16, k=16, t=8, limit=1 << 32):
    """The smallest counter seed (and the first element in row-major order) whose chain has exactly one tied step,
    the same one when ties round to even and when every step rounds ties away from zero, with different final
    values (the search of section 9.5). None when no seed below limit has one."""
    for s in range(limit):
        w = Workload(WORKLOAD_FP32, counter_seed(s), m, n, k)
        A = [w.gen_a.fp32_int(e) for e in range(m * k)]
        B = [w.gen_b.fp32_int(e) for e in range(k * n)]
        for i in range(m):
            for j in range(n):
                chains = []
                for away in (False, True):
                    c, ties = 0, []
                    for kk in range(k):
                        x = A[i * k + kk] * B[kk * n + j] + c
                        if is_tie(x, -46):
                            ties.append(kk)
                        c = round_scaled(x, away)
                    chains.append((c, ties))
                (even, ties_e), (away, ties_a) = chains
                if len(ties_e) == 1 and ties_a == ties_e and even != away:
                    return w, t, i, j, ties_e[0], scaled_to_binary32(even), scaled_to_binary32(away)
    return None


def find_fp32_zero(m=1024, n=16, t=8):
    """The smallest counter seed with an A element exactly 0, and its first such index (the search of 9.6)."""
    for s in range(1 << 32):
        w = Workload(WORKLOAD_FP32, counter_seed(s), m, n, 1)
        for e in range(m):
            if w.gen_a.fp32_int(e) == 0:
                return w, t, e


def generate():
    out = {}
    trees = {}
    for name in ("int8", "fp32-ordered"):
        wid = WORKLOAD_IDS[name]
        v = SPEC_92
        w = Workload(wid, v["seed"], v["m"], v["n"], v["k"])
        hs, root = tree_of(w, w.compute_c(), v["tile"])
        trees[name] = hs
        out[name] = {"seed": v["seed"].hex(), "m": w.m, "n": w.n, "k": w.k, "tile": v["tile"],
                     "philox_key": ["%08x" % x for x in w.key],
                     "a_first8": [element_hex(wid, w.a(e)) for e in range(8)],
                     "b_first8": [element_hex(wid, w.b(e)) for e in range(8)],
                     "leaf_hashes": [h.hex() for h in hs], "root": root.hex()}
    hs = trees["int8"]
    S = [1, 6, 7, 14]
    mp = multiproof(hs, S)
    out["proofs"] = {"workload": "int8",
                     "inclusion": [{"leaf": m, "path": [h.hex() for h in audit_path(hs, m)]} for m in (0, 5, 14)],
                     "multiproof": {"indices": S, "hashes": [h.hex() for h in mp]},
                     "multiproof_file": serialize_multiproof(len(hs), S, mp).hex()}
    out["shapes"] = []
    for name, m, n, k, t in SHAPES:
        w = Workload(WORKLOAD_IDS[name], SHAPE_SEED, m, n, k)
        hs, root = tree_of(w, w.compute_c(), t)
        out["shapes"].append({"workload": name, "seed": SHAPE_SEED.hex(), "m": m, "n": n, "k": k, "tile": t,
                              "root": root.hex(), "leaf_count": len(hs)})
    w, t, i, j, step, even, away = find_fp32_tie()
    out["fp32_tie"] = {"seed": w.seed.hex(), "m": w.m, "n": w.n, "k": w.k, "tile": t,
                       "root": tree_of(w, w.compute_c(), t)[1].hex(), "i": i, "j": j, "step": step,
                       "c_ties_even": "%08x" % even, "c_ties_away": "%08x" % away}
    w, t, z = find_fp32_zero()
    out["fp32_zero"] = {"seed": w.seed.hex(), "m": w.m, "n": w.n, "k": 1, "tile": t,
                        "root": tree_of(w, w.compute_c(), t)[1].hex(), "a_zero_index": z}
    out["philox_high_word"] = []
    for wid, m, k, base, offs in ((WORKLOAD_INT8, 1 << 20, 131071, 1 << 36, (0, 5, 15, 16)),
                                  (WORKLOAD_FP32, 1 << 20, 32768, 1 << 34, (0, 1, 3, 4))):
        w = Workload(wid, SPEC_92["seed"], m, 1, k)
        per_block = 16 if wid == WORKLOAD_INT8 else 4
        out["philox_high_word"].append({
            "workload": WORKLOAD_NAMES[wid], "seed": w.seed.hex(), "m": m, "n": 1, "k": k,
            "elements": [{"index": base + o, "block": (base + o) // per_block,
                          "value": element_hex(wid, w.a(base + o))} for o in offs]})
    return out


def check_all(ck, vectors):
    """Every key of the vector file; an unknown key is a failure (a vector nobody checks is a defect)."""
    known = {"int8", "fp32-ordered", "proofs", "shapes", "fp32_tie", "fp32_zero", "philox_high_word"}
    ck.check("vector file has exactly the keys of section 9 (%s)" % ", ".join(sorted(known)),
             set(vectors) == known, "missing %s, unknown %s" % (sorted(known - set(vectors)),
                                                               sorted(set(vectors) - known)))
    trees = {}
    steps = [(name, lambda name=name: check_workload(ck, name, vectors[name])) for name in ("int8", "fp32-ordered")]
    steps += [("proofs", lambda: check_proof_vectors(ck, vectors["proofs"], trees)),
              ("shapes", lambda: check_shapes(ck, vectors["shapes"])),
              ("fp32_tie", lambda: check_fp32_tie(ck, vectors["fp32_tie"])),
              ("fp32_zero", lambda: check_fp32_zero(ck, vectors["fp32_zero"])),
              ("philox_high_word", lambda: check_philox_high_word(ck, vectors["philox_high_word"]))]
    for key, fn in steps:
        if key not in vectors:
            continue
        try:
            result = fn()
            if key in WORKLOAD_IDS:
                trees[key] = result
                check_proofs(ck, key, *result)
        except Exception as ex:                  # an assertion of the spec's claims, a malformed vector, or a bug
            ck.check("%s: completed without error" % key, False, "%s: %s" % (type(ex).__name__, ex))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", metavar="VECTORS_JSON",
                      help="tests/vectors/spec_v2.json (relative to the repo root or the current directory)")
    mode.add_argument("--generate", metavar="OUT_JSON", help="write the vector keys computed here")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.generate:
        with open(args.generate, "w") as f:
            json.dump(generate(), f, indent=1)
            f.write("\n")
        print("wrote %s (%.1f s)" % (args.generate, time.time() - t0))
        return 0
    ck = Checker()
    try:
        with open(resolve_path(args.check)) as f:
            vectors = json.load(f)
    except (OSError, ValueError) as ex:
        ck.check("read vectors %s" % args.check, False, str(ex))
        print("%d passed, %d failed" % (ck.passed, ck.failed))
        return 1
    check_philox(ck)
    check_rounding(ck)
    check_ct_vectors(ck)
    check_leaf_sizes(ck)
    check_all(ck, vectors)
    print("runtime %.2f s" % (time.time() - t0))
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 0 if ck.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

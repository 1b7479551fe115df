#!/usr/bin/env python3
"""Independent reference implementation of docs/SPEC.md (sections 1-7 and 9), written from the document alone.

Standard library only. It covers: Philox4x32-10, TaggedHash and the input key (sections 2-3), element mapping for
int8 and fp32-ordered (section 3), C for both workloads (section 4; fp32-ordered as an exact left-to-right fma
chain with a general IEEE 754 binary32 round-to-nearest-even), tiles and leaves (sections 5-6), the RFC 6962 Merkle
tree hash, inclusion proofs, multiproofs and the multiproof file format (section 7).

    scripts/spec_reference.py --check tests/vectors/spec_v1.json

recomputes both workloads of section 9.2, compares them with the vectors, self-tests the multiproof code, prints a
line per check and finally "N passed, F failed"; exit status 0 only when nothing failed.
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
# Philox4x32-10 (section 3; Random123 philox4x32 with 10 rounds). The constants are not written in SPEC.md; they are
# Random123's (PHILOX_M4x32_0/1, PHILOX_W32_0/1) and are checked by the known answers of section 9.1.
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
    d = tagged_hash("vcp.v1.input-key", seed + struct.pack("<BIII", workload, m, n, k))
    return struct.unpack_from("<II", d, 0)


class MatrixGen:
    """Elements of A (X = 0) or B (X = 1) by row-major index, with a one-block cache."""

    def __init__(self, key, which):
        self.key = key
        self.which = which
        self._block = None
        self._words = None

    def block(self, b):
        if b != self._block:
            self._words = philox4x32_10((b & MASK32, b >> 32, self.which, 0), self.key)
            self._block = b
        return self._words

    def int8(self, e):
        w = self.block(e >> 4)
        j = e & 15
        byte = (w[j >> 2] >> (8 * (j & 3))) & 0xFF
        return byte - 256 if byte >= 128 else byte

    def fp32_bits(self, e):
        """Binary32 bit pattern of element e: float(int32(w >> 8) - 2^23) * 2^-23."""
        w = self.block(e >> 2)[e & 3]
        v = (w >> 8) - 8388608                  # exact integer in [-2^23, 2^23 - 1]
        return round_dyadic_to_binary32(v, -23)  # exact (asserted below), never -0


# ---------------------------------------------------------------------------------------------------------------
# Exact binary32 arithmetic. A finite binary32 value is handled as (n, e) meaning n * 2^e with n a signed integer.
class Binary32Inexact(Exception):
    pass


def round_dyadic_to_binary32(n, e, zero_negative=False):
    """Round the exact value n * 2^e (n: int, e: int) to binary32, round to nearest, ties to even, with gradual
    underflow (subnormals) and overflow to infinity. Returns the 32-bit pattern. When n == 0 the result is a zero
    whose sign is given by zero_negative (an exact zero carries no sign of its own; the caller applies IEEE 754's
    sign rules). A nonzero value that rounds to zero keeps its sign."""
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
        if rem > half or (rem == half and (mant & 1)):
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


def fma_binary32(a, b, c):
    """IEEE 754 fusedMultiplyAdd on binary32 bit patterns (finite operands): a*b + c computed exactly, rounded once
    to nearest even. Sign of an exact zero (IEEE 754-2019 6.3): the sum of a zero product and a zero c is -0 only
    when both are -0; an exact cancellation of nonzero terms is +0 under round to nearest."""
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
    if total == 0:
        neg = (p == 0 and nc == 0 and (sa != sb) and sc)
        return round_dyadic_to_binary32(0, 0, neg)
    return round_dyadic_to_binary32(total, emin)


def binary32_from_double_struct(x):
    """Independent cross-check: CPython packs a double to binary32 with a C cast (round to nearest even)."""
    try:
        return struct.unpack("<I", struct.pack("<f", x))[0]
    except OverflowError:
        return (0x80000000 if x < 0 else 0) | 0x7F800000


# ---------------------------------------------------------------------------------------------------------------
# Section 4: workloads.
class Workload:
    def __init__(self, workload, seed, m, n, k):
        check_shape(workload, m, n, k)
        self.workload, self.seed, self.m, self.n, self.k = workload, seed, m, n, k
        self.key = input_key(seed, workload, m, n, k)
        self.gen_a = MatrixGen(self.key, 0)
        self.gen_b = MatrixGen(self.key, 1)
        self.fp32_steps = 0
        self.fp32_rounded_steps = 0

    def a(self, e):
        return self.gen_a.int8(e) if self.workload == WORKLOAD_INT8 else self.gen_a.fp32_bits(e)

    def b(self, e):
        return self.gen_b.int8(e) if self.workload == WORKLOAD_INT8 else self.gen_b.fp32_bits(e)

    def compute_c(self):
        """C as a row-major list: int32 values (int8) or binary32 bit patterns (fp32-ordered)."""
        m, n, k = self.m, self.n, self.k
        A = [self.a(e) for e in range(m * k)]
        B = [self.b(e) for e in range(k * n)]
        C = []
        if self.workload == WORKLOAD_INT8:
            for i in range(m):
                row = A[i * k:(i + 1) * k]
                for j in range(n):
                    s = 0
                    for kk in range(k):
                        s += row[kk] * B[kk * n + j]
                    assert -(1 << 31) <= s < (1 << 31)
                    C.append(s)
            return C
        # fp32-ordered: c = +0; for k = 0..K-1: c = fma(A[i][k], B[k][j], c).
        for x in A + B:
            assert not is_subnormal(x) and x != 0x80000000
        Ad = [binary32_decode(x) for x in A]
        Bd = [binary32_decode(x) for x in B]
        for nx, ex, _ in Ad + Bd:
            # the mapping is exact: every element is a multiple of 2^-23 in [-1, 1 - 2^-23]
            sh = ex + 23
            v = nx << sh if sh >= 0 else nx >> -sh
            assert (v << -sh if sh < 0 else v) == nx, "element not a multiple of 2^-23"
            assert -(1 << 23) <= v <= (1 << 23) - 1, "element outside [-1, 1 - 2^-23]"
        for i in range(m):
            for j in range(n):
                c = 0                            # +0.0
                for kk in range(k):
                    c_new = fma_binary32(A[i * k + kk], B[kk * n + j], c)
                    # Section 4 claims: no subnormal ever occurs, every accumulator is a multiple of 2^-46,
                    # and no step produces -0 or a non-finite value. Assert all of it.
                    assert not is_subnormal(c_new), "subnormal accumulator at (%d,%d,k=%d)" % (i, j, kk)
                    assert c_new != 0x80000000, "-0 accumulator"
                    nc, ec, _ = binary32_decode(c_new)
                    assert nc == 0 or ec >= -46, "accumulator not a multiple of 2^-46"
                    self._note_rounding(A[i * k + kk], B[kk * n + j], c, c_new)
                    c = c_new
                C.append(c)
        return C

    def _note_rounding(self, a, b, c, r):
        self.fp32_steps += 1
        na, ea, _ = binary32_decode(a)
        nb, eb, _ = binary32_decode(b)
        nc, ec, _ = binary32_decode(c)
        nr, er, _ = binary32_decode(r)
        emin = min(ea + eb, ec, er)
        exact = (na * nb << (ea + eb - emin)) + (nc << (ec - emin))
        if exact != nr << (er - emin):
            self.fp32_rounded_steps += 1


# ---------------------------------------------------------------------------------------------------------------
# Sections 5-6: tiles and leaves.
SPEC_VERSION = 1


def tile_grid(m, n, t):
    return -(-m // t), -(-n // t)


def leaf_bytes(w, C, t, r, c):
    m, n = w.m, w.n
    r0, r1 = r * t, min(m, (r + 1) * t)
    c0, c1 = c * t, min(n, (c + 1) * t)
    header = struct.pack("<BBHIIIII", SPEC_VERSION, w.workload, t, m, n, w.k, r, c) + w.seed + bytes(7)
    assert len(header) == 63
    fmt = "<i" if w.workload == WORKLOAD_INT8 else "<I"
    body = b"".join(struct.pack(fmt, C[i * n + j]) for i in range(r0, r1) for j in range(c0, c1))
    assert len(body) == 4 * (r1 - r0) * (c1 - c0)
    return header + body


def leaf_hashes(w, C, t):
    if t not in (8, 16, 32, 64, 128, 256):
        raise ValueError("T must be a power of two in [8, 256]")
    tr, tc = tile_grid(w.m, w.n, t)
    return [LEAF(leaf_bytes(w, C, t, r, c)) for r in range(tr) for c in range(tc)]  # leaf index r*tc + c


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


# Section 7.4: multiproof file format.
MP_MAGIC = b"VCPM"


def serialize_multiproof(n, S, hashes):
    out = [MP_MAGIC, struct.pack("<BQI", 1, n, len(S))]
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
    if data[4] != 1:
        raise ProofError("unsupported version %d at offset 4" % data[4])
    pos = 5
    need(8, "tree size")
    n = struct.unpack_from("<Q", data, 5)[0]
    if n == 0:
        raise ProofError("tree size n = 0 at offset 5")
    pos = 13
    need(4, "index count")
    c = struct.unpack_from("<I", data, 13)[0]
    pos = 17
    if c == 0:
        raise ProofError("index count c = 0 at offset 13")
    if 8 * c > len(data) - pos:
        raise ProofError("index count c = %d needs %d bytes, only %d remain after offset 17"
                         % (c, 8 * c, len(data) - pos))
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


def check_workload(ck, name, vec):
    wid = {"int8": WORKLOAD_INT8, "fp32-ordered": WORKLOAD_FP32}[name]
    seed = bytes.fromhex(vec["seed"])
    m, n, k, t = vec["m"], vec["n"], vec["k"], vec["tile"]
    ck.check("%s: vector parameters are those of section 9.2 (seed 00..1f, 40 x 72 x 33, T = 16)" % name,
             (seed, m, n, k, t) == (SPEC_92["seed"], SPEC_92["m"], SPEC_92["n"], SPEC_92["k"], SPEC_92["tile"]))
    w = Workload(wid, seed, m, n, k)
    key = ["%08x" % x for x in w.key]
    ck.check("%s: Philox key k0 k1" % name, key == [x.lower() for x in vec["philox_key"]],
             "got %s" % " ".join(key))
    if wid == WORKLOAD_INT8:
        a8 = [w.a(e) for e in range(8)]
        b8 = [w.b(e) for e in range(8)]
        want_a, want_b = vec["a_first8"], vec["b_first8"]
    else:
        a8 = ["%08x" % w.a(e) for e in range(8)]
        b8 = ["%08x" % w.b(e) for e in range(8)]
        want_a = [x.lower() for x in vec["a_first8"]]
        want_b = [x.lower() for x in vec["b_first8"]]
    ck.check("%s: A elements 0..7" % name, a8 == want_a, "got %s" % a8)
    ck.check("%s: B elements 0..7" % name, b8 == want_b, "got %s" % b8)
    t0 = time.time()
    C = w.compute_c()
    dt = time.time() - t0
    if wid == WORKLOAD_FP32:
        ck.check("%s: %d fma steps (%d rounded), no subnormal, no -0, every accumulator a multiple of 2^-46 "
                 "(section 4 claim asserted on every step; %.2f s)" % (name, w.fp32_steps, w.fp32_rounded_steps,
                                                                          dt), w.fp32_steps == m * n * k)
    tr, tc = tile_grid(m, n, t)
    ck.check("%s: %d x %d = %d tiles" % (name, tr, tc, tr * tc), (tr, tc) == (3, 5))
    hs = leaf_hashes(w, C, t)
    want = vec["leaf_hashes"]
    ck.check("%s: leaf count" % name, len(hs) == len(want), "got %d, vectors have %d" % (len(hs), len(want)))
    for i, h in enumerate(hs):
        ck.check("%s: leaf hash %2d (tile %d,%d)" % (name, i, i // tc, i % tc),
                 i < len(want) and h.hex() == want[i].lower(), "got %s" % h.hex())
    root = mth_from_leaf_hashes(hs)
    ck.check("%s: root" % name, root.hex() == vec["root"].lower(), "got %s" % root.hex())
    ck.check("%s: root by the level representation (7.1, informative) equals the recursive MTH" % name,
             mth_levels(hs) == root)
    return hs, root


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
        if len(blob) != 21 + 8 * len(S) + 32 * len(proof):
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

    hoff = 17 + 8 * len(S)
    cases = [
        ("1 truncated header", good[:3], "truncated"),
        ("1 bad magic", b"VCPN" + good[4:], "magic"),
        ("2 version 2", good[:4] + b"\x02" + good[5:], "version"),
        ("3 n = 0", good[:5] + struct.pack("<Q", 0) + good[13:], "n = 0"),
        ("4 c = 0", good[:13] + struct.pack("<I", 0) + good[17:], "c = 0"),
        ("4 c too large", good[:13] + struct.pack("<I", 0xFFFFFFFF) + good[17:], "remain"),
        ("5 index >= n", good[:17] + struct.pack("<Q", n) + good[25:], ">= n"),
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", metavar="VECTORS_JSON", required=True,
                    help="tests/vectors/spec_v1.json (relative to the repo root or the current directory)")
    args = ap.parse_args(argv)
    t0 = time.time()
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
    for name in ("int8", "fp32-ordered"):
        if not ck.check("vectors contain workload %s" % name, name in vectors):
            continue
        try:
            hs, root = check_workload(ck, name, vectors[name])
            check_proofs(ck, name, hs, root)
        except Exception as ex:                  # an assertion of the spec's claims, or a bug: count it
            ck.check("%s: completed without error" % name, False, "%s: %s" % (type(ex).__name__, ex))
    print("runtime %.2f s" % (time.time() - t0))
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 0 if ck.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

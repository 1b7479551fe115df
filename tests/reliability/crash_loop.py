#!/usr/bin/env python3
"""Crash loops: SIGKILL the real `vcp` binary at random moments, restart it, and check that nothing acknowledged
was lost, nothing was counted twice, every torn log write was recovered or reported (docs/PROTOCOL.md 11.1) and
the store stays openable.

    python3 tests/reliability/crash_loop.py --vcp build/bin/vcp --scenario NAME [--trials N] [--min-trials N]
        [--seed S] [--time-limit SECONDS] [--keep]

Exit status: 0 every check passed, 1 a check failed (the message names the trial, the kill point and the seed to
replay it with), 2 usage. Python 3 standard library only. Every child is killed in a `finally` and dies with this
script (PR_SET_PDEATHSIG); an alarm bounds the whole run. One summary line per scenario ends the output, with the
figures docs/RELIABILITY.md quotes (kill points, how many landed inside a write, torn tails seen and recovered).

Scenarios (one honest lease each, int8, CPU backend, one thread):
- prove, respond, verify: the file-based CLI (docs/PROTOCOL.md 12). Every trial is one whole epoch (epoch start,
  prove, challenge, respond, verify); in it the scenario's command is run and SIGKILLed at a random moment: half
  the trials uniformly over the command's measured duration, half the moment /proc/PID/syscall shows it inside
  fsync/fdatasync/rename (the log append's and the atomic file write's windows; no hook in the library). Then,
  before the restart, half the kills that left frames appended but nothing handed out (no --out file) are
  turned into what a power cut at that moment could leave: the frames the killed command appended are cut at a
  random byte or zero-filled from one (a tail the file system never wrote). Checks after each kill:
    * the log before the command is a byte prefix of the log after the kill (the kill lost nothing older);
    * readers never write: `vcp inspect LOG` (and `vcp report` on the verifier store) leave the log, torn or
      not, byte-identical, and inspect reports the torn tail;
    * the rerun (the command again, to completion) exits 0 and reports the recovery ("store recovered") exactly
      when the log had a torn tail; the intact frames survive it byte for byte;
    * acknowledged = handed out: an --out file the killed run wrote (written atomically: all or nothing) is
      byte-identical to what the rerun hands out, and a message the killed run logged (record, response,
      verdict) is the one the rerun hands back (already logged / already given), byte for byte;
    * no hidden temporary file (.NAME.tmp.XXXXXX) survives the rerun (the writer removes them when it opens);
    * once per scenario, a bit flipped in the last complete frame (an ALTERED frame, not a torn one) makes the
      next writer refuse with the offset and leaves the log byte-identical (PROTOCOL.md 11.1).
  At the end: every epoch started has exactly one verdict, every verdict passes (the provider was honest: a
  kill must never cost it an epoch), and `vcp report --json` counts each epoch once.
- lease: `vcp lease new` and then `vcp lease accept`, each SIGKILLed (uniformly, or inside its n-th sync call) on
  a fresh pair of stores per trial. A store left without its lease (no log, only the header, a torn first frame,
  or only the first of the two entries that make it) is no store: the command run again recreates it and hands
  out what it logged. A store that holds its lease: the command again hands back the same bytes, or is refused in
  one line and changes nothing (a lease logged but never handed out is still in the log, where `vcp inspect`
  shows it). Readers leave every log byte-identical, no hidden temporary file survives, and afterwards the first
  epoch starts on the pair.
- agent, verifierd: a real `vcp verifierd` and `vcp agent` on 127.0.0.1 (plain HTTP on loopback) with one lease
  of 1.5 s epochs at audit share 0.5; the scenario's daemon is SIGKILLed at a random moment (uniform over an
  epoch cycle, or the moment it logs one of its epoch events) and restarted on the same state dir / database.
  Checks after each restart: the lease's evidence (verifier.log image, every entry verifierd committed) exported
  before the kill is a byte prefix of the evidence after it; the epochs are contiguous, each has at most one
  verdict and each verdict is one an honest provider can get from a crash (pass, missed, late, no-response,
  void-verifier-down: never a mismatch or a bad signature, which would mean a record or response handed out was
  forgotten); the agent's provider.log keeps its intact frames, holds one record per epoch and is not changed by
  `vcp inspect`; the SQLite database passes `PRAGMA integrity_check` while verifierd is down. At the end epochs
  pass again after the last kill and the report counts every verdict once.
"""

import argparse
import ctypes
import glob
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

RUN_LIMIT_S = 90  # default time budget for the kills
FINAL_CHECKS_S = 45  # after the budget: the end checks (the service scenarios wait for a passing epoch)


class Fail(Exception):
    pass


def say(line):
    print(line, flush=True)


def die_with_parent():
    """In each child before exec: SIGKILL it when this script dies (Linux PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


# --------------------------------------------------------------------------------------------------------------
# Store logs (docs/PROTOCOL.md 11.1), decoded independently of the library.

HEADER = 8
FRAME_MAGIC = b"VCPF"
FRAME_OVERHEAD = 4 + 4 + 1 + 32


def tagged_hash(tag, data):
    t = tag.encode()
    return hashlib.sha256(bytes([len(t)]) + t + data).digest()


class Log:
    """A log image: its intact frames (offset, type, payload) from the header on, and what follows them."""

    def __init__(self, data):
        self.data = data
        self.frames = []
        at = HEADER
        while at + FRAME_OVERHEAD <= len(data) and data[at:at + 4] == FRAME_MAGIC:
            (length,) = struct.unpack_from("<I", data, at + 4)
            end = at + 9 + length + 32
            if end > len(data):
                break
            body = data[at + 4:at + 9 + length]
            if tagged_hash("vcp.v2.log-frame", body) != data[at + 9 + length:end]:
                break
            self.frames.append((at, data[at + 8], data[at + 9:at + 9 + length]))
            at = end
        self.intact = at if len(data) >= HEADER else 0
        self.tail = len(data) - self.intact  # bytes after the last intact frame: a torn (or altered) tail

    def payloads(self, frame_type):
        return [p for _, t, p in self.frames if t == frame_type]


def epoch_of(message):
    return struct.unpack_from("<Q", message, 37)[0]


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def temporaries(directory):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(directory, ".*.tmp.*")))


# Provider entry types and verifier entry types (PROTOCOL.md 11.1).
P_START, P_RECORD, P_RESPONSE = 3, 4, 5
V_START, V_ARRIVAL, V_CHALLENGE, V_VERDICT = 4, 5, 6, 7
REASONS_AFTER_A_CRASH = {"pass", "missed", "late", "no-response", "void-verifier-down"}


# --------------------------------------------------------------------------------------------------------------
# Killing a child at a chosen moment.

FSYNC_SYSCALLS = {74, 75, 82, 316}  # x86_64: fsync, fdatasync, rename, renameat2


def in_syscall(pid):
    try:
        with open("/proc/%d/syscall" % pid) as f:
            first = f.read().split(" ", 1)[0]
        return int(first) if first.isdigit() else None
    except (OSError, ValueError):
        return None


class Killed:
    def __init__(self, finished, code, at_s, in_sync, out, err):
        self.finished, self.code, self.at_s, self.in_sync, self.out, self.err = finished, code, at_s, in_sync, out, err


def run_and_kill(argv, delay_s, wait_for_sync, scratch):
    """Runs argv and SIGKILLs it after delay_s (wait_for_sync = n > 0: inside the n-th fsync/fdatasync/rename
    seen after delay_s; polling may miss short ones). Returns whether it finished first, its exit code, when it
    was killed, and whether inside a sync call."""
    out_path, err_path = os.path.join(scratch, "kill.out"), os.path.join(scratch, "kill.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=die_with_parent)
    try:
        in_sync = False
        deadline = t0 + delay_s
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(min(0.0005, max(0.0, deadline - time.monotonic())))
        if wait_for_sync:
            limit, seen, was = time.monotonic() + 30, 0, False
            while proc.poll() is None and time.monotonic() < limit:
                now = in_syscall(proc.pid) in FSYNC_SYSCALLS
                seen += int(now and not was)
                was = now
                if seen >= wait_for_sync:
                    in_sync = True
                    break
        at = time.monotonic() - t0
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        code = proc.wait(30)
        finished = code != -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return Killed(finished, code, at, in_sync and not finished, read_bytes(out_path), read_bytes(err_path))


# --------------------------------------------------------------------------------------------------------------
# The file-based CLI scenarios.

class Cli:
    def __init__(self, vcp, directory, rng):
        self.vcp, self.dir, self.rng = vcp, directory, rng
        self.vs, self.ps = self.path("vs"), self.path("ps")
        self.vlog, self.plog = os.path.join(self.vs, "verifier.log"), os.path.join(self.ps, "provider.log")
        self.stats = {"trials": 0, "kills": 0, "finished_before_kill": 0, "in_sync": 0, "mid_command": 0,
                      "torn_by_kill": 0, "power_cut": 0, "power_cut_zeroed": 0, "torn_recovered": 0, "acknowledged": 0,
                      "logged_unacknowledged": 0, "temporaries_left_by_kill": 0, "altered_refused": 0}
        self.durations = {}

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run(self, args, codes=(0,), timeout=60):
        argv = [self.vcp] + [str(a) for a in args]
        t0 = time.monotonic()
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                           preexec_fn=die_with_parent)
        p.seconds = time.monotonic() - t0
        if codes is not None and p.returncode not in codes:
            raise Fail("`%s` exited %d (expected %s)\nstdout: %s\nstderr: %s" % (
                " ".join(argv), p.returncode, "/".join(map(str, codes)), p.stdout.decode(errors="replace")[-1500:],
                p.stderr.decode(errors="replace")[-1500:]))
        return p

    def setup(self):
        self.run(["keygen", "--out", self.path("vk")])
        p = json.loads(self.run(["--json", "keygen", "--out", self.path("pk")]).stdout)
        # 128 x 128 x 128, T = 32 (16 tiles per round), R = 4: a prove of a few tens of ms plus its fsyncs. The
        # claimed rate makes the deadline minutes long, so no loaded machine is ever late: every epoch must pass.
        self.run(["lease", "new", "--key", self.path("vk"), "--provider-key", p["public_key"], "--store", self.vs,
                  "--out", self.path("lease.bin"), "--m", 128, "--n", 128, "--k", 128, "--tile", 32, "--rounds", 4,
                  "--samples", 40, "--rate", 1e5, "--hours", 48, "--audit-share", 0.05])
        self.run(["lease", "accept", "--lease", self.path("lease.bin"), "--key", self.path("pk"), "--store", self.ps,
                  "--out", self.path("accept.bin")])

    def steps(self, epoch):
        e = lambda name: self.path("%s.%d.bin" % (name, epoch))
        v = ["--store", self.vs, "--key", self.path("vk")]
        p = ["--store", self.ps, "--key", self.path("pk")]
        return [
            ("start", ["epoch", "start"] + v + ["--acceptance", self.path("accept.bin"), "--out", e("start")],
             e("start"), self.vs),
            ("prove", ["prove"] + p + ["--backend", "cpu", "--threads", 1, "--start", e("start"), "--out",
                                       e("record")], e("record"), self.ps),
            ("challenge", ["challenge"] + v + ["--record", e("record"), "--out", e("challenge")], e("challenge"),
             self.vs),
            ("respond", ["respond"] + p + ["--challenge", e("challenge"), "--out", e("response")], e("response"),
             self.ps),
            ("verify", ["verify"] + v + ["--response", e("response"), "--out", e("verdict")], e("verdict"), self.vs),
        ]

    def kill_point(self, command, sync_kill):
        """Uniform over the command's measured duration; or inside its n-th sync call after a random part of it."""
        if sync_kill:
            return self.rng.uniform(0, self.durations[command] * 0.5), self.rng.randint(1, 4)
        return self.rng.uniform(0, self.durations[command] * 1.1), 0

    def measure(self):
        """Epoch 0, unkilled: each command's duration, the span kill points are drawn from."""
        for name, args, _, _ in self.steps(0):
            self.durations[name] = self.run(args).seconds
        say("     measured durations: " + ", ".join("%s %.3f s" % kv for kv in self.durations.items()))

    def logged_message(self, log, command, epoch):
        """The message `command` hands out, as the killed run may have logged it for `epoch` (None if not)."""
        if command == "prove":
            found = [p[4:4 + struct.unpack_from("<I", p, 0)[0]] for p in log.payloads(P_RECORD)]
        elif command == "respond":
            found = log.payloads(P_RESPONSE)
        elif command == "verify":
            found = log.payloads(V_VERDICT)
        else:
            return None
        found = [m for m in found if epoch_of(m) == epoch]
        if len(found) > 1:
            raise Fail("%s: the log holds %d %s messages for epoch %d" % (command, len(found), command, epoch))
        return found[0] if found else None

    def reader_checks(self, label, log_path, store, torn):
        """`vcp inspect` (and `vcp report` on the verifier store) leave the log byte-identical and report a torn
        tail."""
        before = read_bytes(log_path)
        p = self.run(["inspect", log_path], codes=None)
        if read_bytes(log_path) != before:
            raise Fail("%s: `vcp inspect %s` changed the log (readers never write)" % (label, log_path))
        text = (p.stdout + p.stderr).decode(errors="replace")
        if torn and not any(w in text.lower() for w in ("torn", "recover")):
            raise Fail("%s: `vcp inspect` of a log with a torn tail of %d bytes does not report it:\n%s" % (
                label, Log(before).tail, text[-1500:]))
        if store == self.vs and torn:
            self.run(["report", "--store", store], codes=None)
            if read_bytes(log_path) != before:
                raise Fail("%s: `vcp report` changed the verifier log (readers never write)" % label)

    def trial(self, command, epoch, sync_kill, altered_probe):
        for name, args, out, store in self.steps(epoch):
            if name != command:
                self.run(args)
                continue
            log_path = self.plog if store == self.ps else self.vlog
            pre = read_bytes(log_path)
            delay, nth = self.kill_point(command, sync_kill)
            label = "epoch %d: %s killed at %s" % (epoch, command, "sync %d seen after %.4f s" % (nth, delay)
                                                   if nth else "%.4f s" % delay)
            k = run_and_kill([self.vcp] + [str(a) for a in args], delay, nth, self.dir)
            self.stats["kills"] += 1
            if k.finished:
                self.stats["finished_before_kill"] += 1
                if k.code != 0:
                    raise Fail("%s: finished before the kill with exit %s: %s" % (label, k.code, k.err[-800:]))
            self.stats["in_sync"] += int(k.in_sync)
            post = read_bytes(log_path)
            if post[:len(pre)] != pre:
                raise Fail("%s: the log before the command (%d bytes) is no longer a prefix of the log" % (
                    label, len(pre)))
            acked = read_bytes(out)
            appended = len(post) > len(pre)
            if not k.finished and (appended or acked is None):
                self.stats["mid_command"] += 1
            left = temporaries(store)
            self.stats["temporaries_left_by_kill"] += int(bool(left))
            log = Log(post)
            if log.tail:
                self.stats["torn_by_kill"] += 1
            # A power cut instead of a kill: what the killed command appended and never acknowledged is torn.
            if not k.finished and acked is None and appended and log.tail == 0 and self.rng.random() < 0.5:
                # Cut at any byte, or zero-filled from a 512-byte boundary on (blocks the file system never
                # wrote; PROTOCOL.md 11.1 calls a frame zeroed from elsewhere altered, not torn).
                blocks = range(-(-len(pre) // 512) * 512, len(post), 512)
                if len(blocks) and self.rng.random() < 0.5:
                    cut = self.rng.choice(blocks)
                    post = post[:cut] + bytes(len(post) - cut)
                    how = "zero-filled from byte %d" % cut
                    self.stats["power_cut_zeroed"] += 1
                else:
                    cut = self.rng.randrange(len(pre), len(post))
                    post = post[:cut]
                    how = "cut at byte %d" % cut
                write_bytes(log_path, post)
                self.stats["power_cut"] += 1
                label += ", then a power cut (the appended frames %s)" % how
                log = Log(post)
            self.reader_checks(label, log_path, store, log.tail > 0)
            logged = self.logged_message(log, command, epoch)
            if altered_probe and log.tail == 0 and len(log.frames) > 1:
                self.altered_probe(label, log_path, args, log)
            # The restart: the same command again, to completion.
            r = self.run(args, codes=None)
            if r.returncode != 0:
                raise Fail("%s: the rerun exited %d (the store must stay usable):\n%s%s" % (
                    label, r.returncode, r.stdout.decode(errors="replace")[-800:],
                    r.stderr.decode(errors="replace")[-800:]))
            recovered = "store recovered" in r.stderr.decode(errors="replace")
            if log.tail and not recovered:
                raise Fail("%s: the log had a torn tail of %d bytes at offset %d and the rerun did not report a "
                           "recovery:\n%s" % (label, log.tail, log.intact, r.stderr.decode(errors="replace")))
            if recovered and not log.tail:
                raise Fail("%s: the rerun reported a recovery of an intact log:\n%s" % (
                    label, r.stderr.decode(errors="replace")))
            self.stats["torn_recovered"] += int(bool(log.tail))
            after = read_bytes(log_path)
            if after[:log.intact] != post[:log.intact]:
                raise Fail("%s: the rerun changed the intact frames (the first %d bytes)" % (label, log.intact))
            handed = read_bytes(out)
            if acked is not None:
                self.stats["acknowledged"] += 1
                if handed != acked:
                    raise Fail("%s: the killed run handed out %s (%d bytes); the rerun handed out different bytes "
                               "(%d): an acknowledged message was lost" % (label, out, len(acked), len(handed)))
            if logged is not None:
                if acked is None:
                    self.stats["logged_unacknowledged"] += 1
                if handed != logged:
                    raise Fail("%s: the killed run logged a %s message for the epoch; the rerun handed out another"
                               % (label, command))
            left = temporaries(store)
            if left:
                raise Fail("%s: hidden temporary files survive the rerun (the writer removes them): %s" % (
                    label, left))
        self.stats["trials"] += 1

    def altered_probe(self, label, log_path, args, log):
        """A bit flipped in the last complete frame is an alteration: the next writer refuses, naming the offset,
        and changes nothing; then the byte is put back."""
        offset, _, payload = log.frames[-1]
        good = read_bytes(log_path)
        at = offset + 9 + self.rng.randrange(len(payload) + 32)
        bad = bytearray(good)
        bad[at] ^= 1 << self.rng.randrange(8)
        write_bytes(log_path, bytes(bad))
        try:
            r = self.run(args, codes=None)
            text = r.stderr.decode(errors="replace")
            if r.returncode != 2 or str(offset) not in text:
                raise Fail("%s, then bit %d of the last frame (at offset %d) flipped: the next writer must refuse "
                           "the altered frame (exit 2, naming offset %d), got exit %d:\n%s" % (
                               label, at * 8, offset, offset, r.returncode, text[-800:]))
            if read_bytes(log_path) != bytes(bad):
                raise Fail("%s: the writer changed a log whose last frame was altered" % label)
            self.stats["altered_refused"] += 1
        finally:
            write_bytes(log_path, good)

    def final_checks(self, epochs):
        v = Log(read_bytes(self.vlog))
        starts = [epoch_of(p[1:]) for p in v.payloads(V_START)]
        verdicts = {}
        for m in v.payloads(V_VERDICT):
            verdicts.setdefault(epoch_of(m), []).append(struct.unpack_from("<H", m, 78)[0])
        if starts != list(range(epochs)):
            raise Fail("epoch starts in the verifier log: %s (expected 0..%d, each once)" % (starts, epochs - 1))
        twice = {e: r for e, r in verdicts.items() if len(r) != 1}
        if twice or sorted(verdicts) != starts:
            raise Fail("every epoch must have exactly one verdict: %s" % verdicts)
        failed = {e: r[0] for e, r in verdicts.items() if r[0] != 0}
        if failed:
            raise Fail("an honest provider lost epochs to the kills (epoch: reason code): %s" % failed)
        rep = json.loads(self.run(["--json", "report", "--store", self.vs]).stdout)
        od = rep.get("on_demand", {})
        if od.get("passed") != epochs or od.get("closed", epochs) != epochs or len(rep.get("epoch_verdicts", [])) \
                != epochs:
            raise Fail("`vcp report --json` must count %d passed epochs once each: on_demand %s, %d verdicts" % (
                epochs, od, len(rep.get("epoch_verdicts", []))))
        p = Log(read_bytes(self.plog))
        records = [epoch_of(x[4:]) for x in p.payloads(P_RECORD)]
        if records != list(range(epochs)):
            raise Fail("records in the provider log: %s (expected one per epoch)" % records)


class LeaseCli(Cli):
    """`vcp lease new` and `vcp lease accept` killed at random moments: each trial a fresh pair of stores."""

    def __init__(self, vcp, directory, rng):
        super().__init__(vcp, directory, rng)
        self.stats.update({"empty_store_recreated": 0, "store_refused_again": 0})

    def setup(self):
        self.run(["keygen", "--out", self.path("vk")])
        self.pk = json.loads(self.run(["--json", "keygen", "--out", self.path("pk")]).stdout)["public_key"]

    def lease_steps(self, i):
        vs, ps = self.path("vs%d" % i), self.path("ps%d" % i)
        lease, accept = self.path("lease%d.bin" % i), self.path("accept%d.bin" % i)
        return [
            ("lease new", ["lease", "new", "--key", self.path("vk"), "--provider-key", self.pk, "--store", vs, "--out",
                           lease, "--m", 128, "--n", 128, "--k", 128, "--tile", 32, "--rounds", 4, "--samples", 40,
                           "--rate", 1e5, "--hours", 48, "--audit-share", 0.05], lease, vs, "verifier.log", 1),
            ("lease accept", ["lease", "accept", "--lease", lease, "--key", self.path("pk"), "--store", ps, "--out",
                              accept], accept, ps, "provider.log", 2),
        ]

    def measure(self):
        for name, args, _, _, _, _ in self.lease_steps(0):
            self.durations[name] = self.run(args).seconds
        say("     measured durations: " + ", ".join("%s %.3f s" % kv for kv in self.durations.items()))

    def trial(self, i, sync_kill):
        for name, args, out, store, log_name, message_type in self.lease_steps(i):
            log_path = os.path.join(store, log_name)
            delay, nth = self.kill_point(name, sync_kill)
            label = "trial %d: %s killed at %s" % (i, name, "sync %d seen after %.4f s" % (nth, delay) if nth
                                                   else "%.4f s" % delay)
            k = run_and_kill([self.vcp] + [str(a) for a in args], delay, nth, self.dir)
            self.stats["kills"] += 1
            self.stats["finished_before_kill"] += int(k.finished)
            self.stats["in_sync"] += int(k.in_sync)
            if k.finished and k.code != 0:
                raise Fail("%s: finished before the kill with exit %s: %s" % (label, k.code, k.err[-800:]))
            post = read_bytes(log_path)
            log = Log(post or b"")
            acked = read_bytes(out)
            self.stats["temporaries_left_by_kill"] += int(bool(temporaries(store)))
            logged = log.payloads(message_type)
            if post is not None:
                self.stats["mid_command"] += int(not k.finished)
                self.stats["torn_by_kill"] += int(log.tail > 0)
                self.reader_checks(label, log_path, None, log.tail > 0 and len(post) >= HEADER)
            if acked is not None:
                self.stats["acknowledged"] += 1
                if logged != [acked]:
                    raise Fail("%s: %s handed out %s but its store does not hold that message" % (label, name, out))
            r = self.run(args, codes=None)
            text = (r.stdout + r.stderr).decode(errors="replace")
            if len(log.frames) < 2:
                # A store without its lease (no log, only its header, a torn first frame, or only the first entry
                # of the two that make the lease: lease and plan, lease and acceptance) is no store: recreated.
                if r.returncode != 0:
                    raise Fail("%s: the store holds no intact entry (%s bytes of log) and `vcp %s` again exited %d "
                               "instead of recreating it:\n%s" % (label, None if post is None else len(post), name,
                                                                  r.returncode, text[-800:]))
                self.stats["empty_store_recreated"] += int(post is not None)
                if Log(read_bytes(log_path)).payloads(message_type) != [read_bytes(out)]:
                    raise Fail("%s: the recreated store does not hold the message %s handed out" % (label, name))
            else:
                after = read_bytes(log_path)
                if r.returncode == 0:
                    if acked is not None and read_bytes(out) != acked:
                        raise Fail("%s: `vcp %s` again handed out other bytes than the killed run" % (label, name))
                    if after[:log.intact] != post[:log.intact]:
                        raise Fail("%s: `vcp %s` again changed the store's intact entries" % (label, name))
                else:
                    if after != post and Log(after).intact != log.intact:
                        raise Fail("%s: a refused `vcp %s` changed the store" % (label, name))
                    if text.count("\n") != 1 or r.returncode not in (1, 2, 3):
                        raise Fail("%s: the refusal is not one line with an exit code (%d): %s" % (
                            label, r.returncode, text))
                    self.stats["store_refused_again"] += 1
                    if acked is None:
                        # Logged, never handed out: the message is still in the store (vcp inspect shows it).
                        self.stats["logged_unacknowledged"] += 1
                        write_bytes(out, logged[0])
            left = temporaries(store)
            if left:
                raise Fail("%s: hidden temporary files left in the store: %s" % (label, left))
        # Both stores stay usable: the first epoch starts, and both logs open.
        vs, ps = self.path("vs%d" % i), self.path("ps%d" % i)
        r = self.run(["epoch", "start", "--store", vs, "--key", self.path("vk"), "--acceptance",
                      self.path("accept%d.bin" % i), "--out", self.path("start%d.bin" % i)], codes=None)
        if r.returncode != 0:
            raise Fail("trial %d: after the kills the first epoch does not start (exit %d): %s" % (
                i, r.returncode, (r.stdout + r.stderr).decode(errors="replace")[-800:]))
        self.run(["inspect", os.path.join(ps, "provider.log")])
        shutil.rmtree(vs, ignore_errors=True)
        shutil.rmtree(ps, ignore_errors=True)
        self.stats["trials"] += 1


def scenario_lease(vcp, directory, trials, min_trials, rng, deadline):
    cli = LeaseCli(vcp, directory, rng)
    cli.setup()
    cli.measure()
    i = 1
    while cli.stats["trials"] < trials:
        if time.monotonic() > deadline:
            if cli.stats["trials"] < min_trials:
                raise Fail("time budget spent after %d trials, fewer than --min-trials %d" % (
                    cli.stats["trials"], min_trials))
            break
        cli.trial(i, sync_kill=i % 2 == 0)
        i += 1
    return cli.stats


def scenario_cli(vcp, directory, command, trials, min_trials, rng, deadline, probe_altered):
    cli = Cli(vcp, directory, rng)
    cli.setup()
    cli.measure()
    epoch = 1
    altered_at = rng.randrange(max(1, min_trials // 2)) if probe_altered else trials
    while cli.stats["trials"] < trials:
        if time.monotonic() > deadline:
            if cli.stats["trials"] < min_trials:
                raise Fail("time budget spent after %d trials, fewer than --min-trials %d" % (
                    cli.stats["trials"], min_trials))
            break  # a loaded machine: stop at the budget with at least min_trials done (counted in the summary)
        cli.trial(command, epoch, sync_kill=epoch % 2 == 0, altered_probe=epoch - 1 >= altered_at and
                  cli.stats["altered_refused"] == 0)
        epoch += 1
    cli.final_checks(epoch)
    if probe_altered and cli.stats["altered_refused"] == 0:
        raise Fail("the altered-frame probe never ran (no intact log at a kill point); raise --trials")
    return cli.stats


# --------------------------------------------------------------------------------------------------------------
# The service scenarios.

RATE = 1398101  # int8 64^3, T 32, R 2, slack 1.0: a 1.5 s deadline (tests/service/end_to_end.py)


class Daemon:
    def __init__(self, vcp, directory, name, argv):
        self.vcp, self.dir, self.name, self.argv = vcp, directory, name, argv
        self.proc, self.port, self.logs = None, None, []

    def start(self, port=0, timeout=30):
        t_end = time.monotonic() + timeout
        while True:
            log = os.path.join(self.dir, "%s.%d.log" % (self.name, len(self.logs) + 1))
            self.logs.append(log)
            with open(log, "wb") as err:
                self.proc = subprocess.Popen([self.vcp] + self.argv + ["--listen", "127.0.0.1:%d" % port],
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                             preexec_fn=die_with_parent)
            while time.monotonic() < t_end:
                ev = [e for e in self.events() if e.get("event") == "listening"]
                if ev:
                    self.port = int(ev[0]["port"])
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
            text = read_bytes(log).decode(errors="replace")
            if self.proc.poll() is not None and port and "in use" in text.lower() and time.monotonic() < t_end:
                time.sleep(0.2)
                continue
            raise Fail("%s did not start (exit %s):\n%s" % (self.name, self.proc.poll(), text[-2000:]))

    def events(self):
        out = []
        for line in (read_bytes(self.logs[-1]) or b"").decode(errors="replace").splitlines():
            line = line.strip()
            if line.startswith("{") and line.endswith("}"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def kill9(self):
        if self.proc.poll() is not None:
            raise Fail("%s had exited (%s) before its kill:\n%s" % (
                self.name, self.proc.poll(), read_bytes(self.logs[-1]).decode(errors="replace")[-2000:]))
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop_quietly(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def url(self):
        return "http://127.0.0.1:%d" % self.port


def http_get(url, accept="application/json", timeout=20):
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


class Service:
    def __init__(self, vcp, directory, rng, victim):
        self.vcp, self.dir, self.rng, self.victim = vcp, directory, rng, victim
        self.stats = {"kills": 0, "kills_at_events": 0, "evidence_entries": 0}
        if victim == "agent":
            self.stats.update({"agent_mid_epoch": 0, "agent_log_torn": 0})
        self.daemons = []
        self.torn_agent_logs = set()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run(self, args):
        p = subprocess.run([self.vcp] + [str(a) for a in args], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60, preexec_fn=die_with_parent)
        if p.returncode != 0:
            raise Fail("`vcp %s` exited %d: %s" % (" ".join(map(str, args)), p.returncode,
                                                   (p.stdout + p.stderr).decode(errors="replace")[-1500:]))
        return p

    def setup(self):
        vk = json.loads(self.run(["--json", "keygen", "--out", self.path("vk")]).stdout)["public_key"]
        pk = json.loads(self.run(["--json", "keygen", "--out", self.path("pk")]).stdout)["public_key"]
        with open(self.path("authorized_keys"), "w") as f:
            f.write("%s crash-loop verifier\n" % vk)
        self.state = self.path("agent-state")
        self.db = self.path("verifierd.sqlite")
        self.agent = Daemon(self.vcp, self.dir, "agent", [
            "agent", "run", "--state", self.state, "--key", self.path("pk"), "--authorized-keys",
            self.path("authorized_keys"), "--backend", "cpu", "--threads", "1", "--max-audit-share", "1.0",
            "--log-level", "info"])
        self.vd = Daemon(self.vcp, self.dir, "verifierd", [
            "verifierd", "run", "--database", self.db, "--key", self.path("vk"), "--verify-threads", "1",
            "--allow-plain-agents", "--log-level", "info"])
        self.daemons = [self.agent, self.vd]
        self.agent.start()
        self.vd.start()
        out = json.loads(self.run([
            "--json", "verifierd", "lease", "add", "--api", self.vd.url(), "--agent", self.agent.url(),
            "--provider-key", pk, "--kind", "int8", "--m", 64, "--n", 64, "--k", 64, "--tile", 32, "--devices", 1,
            "--rounds", 2, "--rate", RATE, "--slack", "1.0", "--allowance-ms", "0", "--seconds", 900,
            "--audit-share", 0.5]).stdout)
        if out.get("accepted") is not True:
            raise Fail("lease add: %s" % out)
        self.lease = out["lease_id"]

    def evidence(self):
        return http_get("%s/v1/leases/%s/evidence" % (self.vd.url(), self.lease), accept="application/octet-stream")

    def report(self):
        return json.loads(http_get("%s/v1/leases/%s/report" % (self.vd.url(), self.lease)))

    def check_evidence(self, label, before, after):
        if after[:len(before)] != before:
            raise Fail("%s: the evidence exported before the kill (%d bytes) is not a prefix of the evidence "
                       "after it (%d bytes): a committed entry was lost or changed" % (label, len(before), len(after)))
        log = Log(after)
        if log.tail:
            raise Fail("%s: the exported evidence has %d bytes that are not intact frames" % (label, log.tail))
        starts = [epoch_of(p[1:]) for p in log.payloads(V_START)]
        if starts != list(range(len(starts))):
            raise Fail("%s: epoch starts not contiguous and unique: %s" % (label, starts))
        verdicts = {}
        for m in log.payloads(V_VERDICT):
            verdicts.setdefault(epoch_of(m), []).append(m)
        twice = sorted(e for e, v in verdicts.items() if len(v) > 1)
        if twice:
            raise Fail("%s: epochs with more than one verdict: %s" % (label, twice))
        unclosed = [e for e in starts[:-1] if e not in verdicts]
        if unclosed:
            raise Fail("%s: epochs before the last without a verdict: %s" % (label, unclosed))
        self.stats["evidence_entries"] = len(log.frames)
        return log

    def check_reasons(self, label, rep):
        bad = [(v.get("epoch"), v.get("reason")) for v in rep.get("epoch_verdicts", [])
               if v.get("reason") not in REASONS_AFTER_A_CRASH]
        if bad:
            raise Fail("%s: verdicts an honest provider cannot get from a crash: %s" % (label, bad))
        epochs = [v.get("epoch") for v in rep.get("epoch_verdicts", [])]
        if len(set(epochs)) != len(epochs) or rep.get("epochs", len(epochs)) != len(epochs):
            raise Fail("%s: the report counts an epoch twice: %s, epochs %s" % (label, epochs, rep.get("epochs")))

    def agent_logs(self):
        return sorted(glob.glob(os.path.join(self.state, "**", "provider.log"), recursive=True))

    def check_agent_store(self, label, snapshots):
        """While the agent is down: its logs keep every frame that was intact in a snapshot, one record per
        epoch, and `vcp inspect` changes nothing."""
        for path in self.agent_logs():
            data = read_bytes(path)
            before = snapshots.get(path)
            if before is not None:
                keep = Log(before).intact
                if data[:keep] != before[:keep]:
                    raise Fail("%s: %s lost or changed frames intact before the kill" % (label, path))
            log = Log(data)
            if log.tail:
                self.stats["agent_log_torn"] += 1
                self.torn_agent_logs.add(path)
            if log.frames and log.frames[-1][1] in (P_START, P_RECORD):
                self.stats["agent_mid_epoch"] += 1  # killed with an epoch started or proven, not yet answered
            records = [epoch_of(p[4:]) for p in log.payloads(P_RECORD)]
            if len(set(records)) != len(records):
                raise Fail("%s: %s holds two records for one epoch: %s" % (label, path, records))
            subprocess.run([self.vcp, "inspect", path], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            if read_bytes(path) != data:
                raise Fail("%s: `vcp inspect %s` changed the agent's log (readers never write)" % (label, path))

    def check_database(self, label):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        try:
            result = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
        if result != [("ok",)]:
            raise Fail("%s: the database fails its integrity check: %s" % (label, result[:5]))

    def wait_pass_after(self, label, epochs_before, timeout):
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            rep = self.report()
            self.check_reasons(label, rep)
            later = [v for v in rep.get("epoch_verdicts", []) if v.get("epoch", -1) >= epochs_before]
            if any(v.get("reason") == "pass" for v in later):
                return rep
            time.sleep(0.25)
        raise Fail("%s: no epoch passed within %d s after the last kill: %s" % (
            label, timeout, [(v.get("epoch"), v.get("reason")) for v in self.report().get("epoch_verdicts", [])]))

    def loop(self, kills, min_kills, deadline):
        self.wait_pass_after("before the kills", 0, 40)
        events = {"agent": ("epoch-proven", "challenge-answered"),
                  "verifierd": ("epoch-started", "record-received", "epoch-closed")}[self.victim]
        victim = self.agent if self.victim == "agent" else self.vd
        for i in range(kills):
            if time.monotonic() > deadline:
                if i < min_kills:
                    raise Fail("time budget spent after %d kills, fewer than --min-trials %d" % (i, min_kills))
                break
            before = self.evidence()
            snapshots = {p: read_bytes(p) for p in self.agent_logs()}
            if self.rng.random() < 0.5:
                delay = self.rng.uniform(0, 3.0)
                how = "%.3f s after the previous restart" % delay
                time.sleep(delay)
            else:
                event = self.rng.choice(events)
                seen = len([e for e in victim.events() if e.get("event") == event])
                t_end = time.monotonic() + 6
                while time.monotonic() < t_end and len([e for e in victim.events()
                                                        if e.get("event") == event]) <= seen:
                    time.sleep(0.002)
                how = "the moment it logged %s" % event
                self.stats["kills_at_events"] += 1
            label = "kill %d of %s (%s)" % (i + 1, self.victim, how)
            victim.kill9()
            self.stats["kills"] += 1
            if self.victim == "agent":
                self.torn_agent_logs.clear()
                self.check_agent_store(label, snapshots)
                victim.start(port=victim.port)
                recovered = {os.path.join(e.get("dir", ""), "provider.log") for e in victim.events()
                             if e.get("event") == "store-recovered"}
                if not self.torn_agent_logs <= {os.path.normpath(r) for r in recovered}:
                    raise Fail("%s: torn tails in %s, and the restarted agent logged no store-recovered for them "
                               "(logged: %s)" % (label, sorted(self.torn_agent_logs), sorted(recovered)))
            else:
                self.check_database(label)
                victim.start()
            after = self.evidence()
            self.check_evidence(label, before, after)
            self.check_reasons(label, self.report())
        rep = self.wait_pass_after("after the last kill", len(Log(self.evidence()).payloads(V_START)), 40)
        self.check_evidence("the end", before, self.evidence())
        self.stats["epochs"] = rep.get("epochs")
        self.stats["verdicts"] = {r: sum(1 for v in rep.get("epoch_verdicts", []) if v.get("reason") == r)
                                  for r in sorted({v.get("reason") for v in rep.get("epoch_verdicts", [])})}


def scenario_service(vcp, directory, victim, kills, min_kills, rng, deadline):
    s = Service(vcp, directory, rng, victim)
    try:
        s.setup()
        s.loop(kills, min_kills, deadline)
    except (OSError, urllib.error.URLError, ValueError) as e:
        raise Fail("%s: %s" % (type(e).__name__, e))
    finally:
        for d in s.daemons:
            d.stop_quietly()
    return s.stats


# --------------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vcp", required=True, help="the vcp binary")
    ap.add_argument("--scenario", required=True, choices=["prove", "respond", "verify", "lease", "agent", "verifierd"])
    ap.add_argument("--trials", type=int, default=None, help="kill points (CLI: epochs; default 100 CLI, 40 service)")
    ap.add_argument("--min-trials", type=int, default=None,
                    help="stop at the time budget only after this many (default: all of --trials)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh one, printed)")
    ap.add_argument("--time-limit", type=float, default=RUN_LIMIT_S,
                    help="the time budget in seconds: the kills stop there (a failure below --min-trials); the "
                    "checks that end the scenario get %d s more" % FINAL_CHECKS_S)
    ap.add_argument("--skip-altered-probe", action="store_true",
                    help="leave out the altered-frame probe (to run the rest against a build older than the rule)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    service = args.scenario in ("agent", "verifierd")
    trials = args.trials if args.trials is not None else (40 if service else 100)
    min_trials = trials if args.min_trials is None else min(args.min_trials, trials)
    rng = random.Random(seed)
    replay = "%s --vcp %s --scenario %s --trials %d --seed %d" % (sys.argv[0], args.vcp, args.scenario, trials, seed)
    hard = int(args.time_limit) + FINAL_CHECKS_S
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Fail("alarm: over %d s" % hard)))
    signal.alarm(hard)
    directory = tempfile.mkdtemp(prefix="vcp-crash-%s-" % args.scenario)
    t0 = time.monotonic()
    say("crash loop %s: %d trials, seed %d, in %s" % (args.scenario, trials, seed, directory))
    try:
        deadline = t0 + args.time_limit
        if service:
            stats = scenario_service(args.vcp, directory, args.scenario, trials, min_trials, rng, deadline)
        elif args.scenario == "lease":
            stats = scenario_lease(args.vcp, directory, trials, min_trials, rng, deadline)
        else:
            stats = scenario_cli(args.vcp, directory, args.scenario, trials, min_trials, rng, deadline,
                                 not args.skip_altered_probe)
    except Fail as e:
        say("FAIL crash loop %s (seed %d): %s" % (args.scenario, seed, e))
        say("replay: " + replay + " --keep")
        if args.keep:
            say("kept " + directory)
        return 1
    except Exception:
        traceback.print_exc()
        say("FAIL crash loop %s (seed %d): internal error of the driver; replay: %s" % (args.scenario, seed, replay))
        return 1
    finally:
        signal.alarm(0)
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    say("PASS crash loop %s: %s; %.1f s (seed %d)" % (
        args.scenario, ", ".join("%s %s" % kv for kv in stats.items()), time.monotonic() - t0, seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

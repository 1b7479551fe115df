#!/usr/bin/env python3
"""End-to-end tests of `vcp agent` and `vcp verifierd`: real processes on 127.0.0.1, real TLS, real SQLite.

    python3 tests/service/end_to_end.py --vcp build/bin/vcp --scenario NAME [--keep]

Exit status: 0 every check passed, 77 skipped (the reason is printed; e.g. promtool missing), 1 a check failed
(the message says what was expected and what came; the tail of every child's log follows). Python 3 standard
library only. Each scenario makes its own temporary directory: a test CA and a server certificate for
127.0.0.1 / ::1 / localhost made with the `openssl` command line, Ed25519 keys made with `vcp keygen`, one state
directory per agent and one SQLite database for verifierd. Every child is started with `--listen 127.0.0.1:0` (a
restart reuses the port the first start got, because the verifier's lease names the agent's URL) and its port is
read from its JSON log line {"event":"listening","port":N}. Every child is killed in a `finally`, and an alarm
bounds the whole scenario. One line is printed per check ("PASS name: detail"), then a summary line.

Leases use tiny terms so that epochs are short and frequent: int8 64 x 64 x 64, tile 32, 2 rounds, 1 device, a
claimed rate of 1398101 ops/s per device with slack 1.0 (deadline 1.5 s), audit share 0.5 (a scheduled epoch
every 3 s on average). Agents run the CPU backend with one thread and --max-audit-share 1.0, so their token bucket
never refuses the verifier's honest schedule (at 0.5 it would refill exactly as fast as a 0.5 share drains it).

Scenarios
- tls_three_agents: verifierd and three agents, all over TLS (agents' certificates checked against the test CA).
  A client without the CA is refused; three leases are added with `vcp verifierd lease add`; every lease runs at
  least three epochs and every epoch passes; `lease list` names them and each agent lists its lease.
- lazy_agent: one agent started with --simulate-lazy 0.5 (skips half of every epoch's tiles; plain HTTP on
  loopback). Every closed epoch fails with tile-mismatch; the report says failed, its network section counts
  them as failed (not unreachable), and the verifierd metric of failures by reason counts them.
- agent_stops: an agent is SIGSTOPped: its epochs close missed, and the report counts them in its network
  section (unreachable or missed while reachable). After SIGCONT epochs pass again. Then the agent is stopped with
  SIGTERM (exit 0), more epochs are missed (connection refused: unreachable), and after a restart on the same
  state dir and port epochs pass again.
- verifierd_kill9: verifierd is killed with SIGKILL three times in the middle of an epoch: while its epoch start
  waits on a stopped agent (an open epoch without a record), the moment the agent logs that it signed the record
  (the record on its way), and the moment verifierd logs the record's arrival (the challenge next). Each time it is
  restarted on the same database. The evidence exported before each kill is compared with the evidence at the end:
  every verdict still there byte for byte (same signature), epoch numbers contiguous and unique, one verdict per
  epoch, each interrupted epoch closed exactly once; every verdict the killed process had logged is in the report,
  the report counts each verdict once, and later epochs pass.
- agent_kill9: an agent is killed with SIGKILL the moment it has signed a record (its challenge still to come),
  and restarted on the same state dir and port: the challenge reaches the new process and the epoch passes. Then
  it is killed while stopped with a verifier's epoch start in its socket, and restarted: that epoch closes once and
  later epochs pass; the agent still lists the lease with its epochs.
- bad_requests: against a real agent (TLS), driven with the file-based CLI (`vcp lease new`, `vcp epoch start`,
  `vcp challenge`, `vcp verify`) and raw HTTP: a malformed body, a truncated message, a message of the wrong type,
  an oversized body, a wrong content type, an unknown route and lease, a wrong method, a lease offered with an
  unauthorized verifier key, a challenge before any record, an epoch start chained to records the agent never
  made, a start under another lease's path, and epoch starts faster than the agent's token bucket allows (429 with
  Retry-After; this agent runs with burst_epochs 1 and --max-audit-share 0.01). Every refusal is a 4xx with a JSON
  error body {"error","kind","status"} and the agent's lease status is unchanged afterwards; a whole epoch over
  HTTP still passes, and the same start twice gives the same record. The refusals are counted in the agent's
  metrics. These leases have a 6 s deadline (a quarter of the rate): CLI start-up must not make them late.
- metrics_promtool: `promtool check metrics` on the agent's and verifierd's /metrics after an epoch passed and a
  request was refused, plus a few values (skipped with 77 when promtool is missing).
- export_offline: a 30 s lease runs to its end (state "ended", every epoch closed); its evidence is exported with
  `vcp verifierd lease export`, both services are stopped with SIGTERM (exit 0), and `vcp report --store DIR
  --json` run offline on the export gives the same counts and the same signed verdicts as the service's report.
"""

import argparse
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

SKIP = 77
SCENARIO_LIMIT_S = 240  # hard bound (ctest's timeout is 300 s); every scenario aims at under 90 s

# Lease terms (see the docstring): deadline = 2 rounds x 2 x 64^3 ops / RATE x (1 + slack) = 1.5 s.
RATE = 1398101
DEADLINE_MS = 1500
AUDIT_SHARE = 0.5
SHAPE = {"kind": "int8", "m": 64, "n": 64, "k": 64, "tile": 32, "devices": 1, "rounds": 2}
MESSAGE_TYPE = "application/vnd.vcp.v2"


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def say(line):
    print(line, flush=True)


# --------------------------------------------------------------------------------------------------------------
# HTTP (http.client rather than urllib.request: the tests need non-2xx answers, raw bodies and oversized uploads).

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body.decode())
        except (ValueError, UnicodeDecodeError) as e:
            raise Fail("expected a JSON body, got %r (%s)" % (self.body[:300], e))

    def ctype(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def brief(self):
        return "HTTP %d %s, %d bytes" % (self.status, self.ctype(), len(self.body))

    def __repr__(self):
        return "HTTP %d %s %r" % (self.status, self.headers.get("content-type", ""), self.body[:400])


def request(method, url, body=None, content_type=None, accept=None, ctx=None, timeout=30):
    """One request on a fresh connection. Raises OSError (ssl.SSLError included) when no HTTP answer came."""
    u = urllib.parse.urlsplit(url)
    if u.scheme == "https":
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.putrequest(method, u.path + ("?" + u.query if u.query else ""), skip_accept_encoding=True)
        if content_type is not None:
            conn.putheader("Content-Type", content_type)
        if accept is not None:
            conn.putheader("Accept", accept)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            try:
                conn.send(body)
            except OSError:
                pass  # a server refusing a large body may close early; its answer is still read below
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def parse_metrics(text):
    """Prometheus text -> list of (name, {label: value}, float). Enough of the format for our own exporters."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)', line)
        if not m:
            raise Fail("unparsable metrics line %r" % line)
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def metric_sum(samples, name, **labels):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items()))


# --------------------------------------------------------------------------------------------------------------
# A scenario's context: its directory, the children it started, the checks it made.

class Tls:
    def __init__(self, directory):
        self.dir = directory
        self.ca = os.path.join(directory, "ca.pem")
        self.cert = os.path.join(directory, "server.pem")
        self.key = os.path.join(directory, "server.key")


class Ctx:
    def __init__(self, vcp, directory):
        self.vcp, self.dir = vcp, directory
        self.daemons = []
        self.checks = 0
        self._tls = None
        self.verifier_key_dir = self.verifier_key_hex = None

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def check(self, ok, name, detail=""):
        if not ok:
            raise Fail("%s: %s" % (name, detail))
        self.checks += 1
        say("PASS %s%s" % (name, ": " + detail if detail else ""))

    # -- the vcp command line ----------------------------------------------------------------------------------
    def vcp_run(self, args, codes=(0,), timeout=60):
        argv = [self.vcp] + [str(a) for a in args]
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail("`%s` did not finish within %d s" % (" ".join(argv), timeout))
        if codes is not None and p.returncode not in codes:
            raise Fail("`%s` exited %d (expected %s)\nstdout: %s\nstderr: %s" % (
                " ".join(argv), p.returncode, "/".join(map(str, codes)), p.stdout.decode(errors="replace")[-2000:],
                p.stderr.decode(errors="replace")[-2000:]))
        return p

    def vcp_json(self, args, codes=(0,), timeout=60):
        p = self.vcp_run(["--json"] + list(args), codes=codes, timeout=timeout)
        try:
            return json.loads(p.stdout.decode())
        except ValueError:
            raise Fail("`vcp --json %s` printed no JSON: %r" % (" ".join(map(str, args)), p.stdout[:500]))

    def keygen(self, name):
        d = self.path(name)
        out = self.vcp_json(["keygen", "--out", d])
        return d, out["public_key"]

    def verifier_key(self):
        if self.verifier_key_dir is None:
            self.verifier_key_dir, self.verifier_key_hex = self.keygen("verifier-key")
        return self.verifier_key_dir, self.verifier_key_hex

    # -- TLS -----------------------------------------------------------------------------------------------------
    def tls(self):
        if self._tls is None:
            if not shutil.which("openssl"):
                raise Skip("the openssl command line is not installed (apt-get install openssl)")
            t = Tls(self.path("tls"))
            os.makedirs(t.dir)
            ca_key, csr, ext = (os.path.join(t.dir, n) for n in ("ca.key", "server.csr", "server.ext"))
            ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            with open(ext, "w") as f:
                f.write("subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
            for argv in (
                    ["openssl", "req", "-x509"] + ec + ["-keyout", ca_key, "-out", t.ca, "-days", "2", "-subj",
                                                         "/CN=vcp end-to-end test CA", "-addext",
                                                         "basicConstraints=critical,CA:TRUE", "-addext",
                                                         "keyUsage=critical,keyCertSign,cRLSign"],
                    ["openssl", "req"] + ec + ["-keyout", t.key, "-out", csr, "-subj", "/CN=localhost"],
                    ["openssl", "x509", "-req", "-in", csr, "-CA", t.ca, "-CAkey", ca_key, "-set_serial",
                     "0x%x" % int.from_bytes(os.urandom(8), "big"), "-days", "2", "-out", t.cert, "-extfile", ext]):
                p = subprocess.run(argv, capture_output=True, timeout=60)
                if p.returncode != 0:
                    raise Fail("`%s` failed: %s" % (" ".join(argv), p.stderr.decode(errors="replace")))
            self._tls = t
        return self._tls

    def client_ctx(self):
        return ssl.create_default_context(cafile=self.tls().ca)

    # -- children ------------------------------------------------------------------------------------------------
    def cleanup(self):
        for d in self.daemons:
            d.kill_quietly()

    def log_tails(self, lines=25):
        for d in self.daemons:
            for gen, path in enumerate(d.log_paths, 1):
                try:
                    with open(path, errors="replace") as f:
                        tail = f.read().splitlines()[-lines:]
                except OSError:
                    continue
                say("---- %s (start %d) log tail: %s" % (d.name, gen, path))
                for line in tail:
                    say("    " + line)


def die_with_parent():
    """Runs in each child before exec: SIGKILL it when this script dies, even by SIGKILL (Linux prctl
    PR_SET_PDEATHSIG), so that no daemon outlives a test runner's timeout."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the finally blocks and the alarm still stop every child


class Daemon:
    """One `vcp agent run` or `vcp verifierd run` child. stderr (the JSON log) goes to NAME.GEN.log."""

    def __init__(self, ctx, name, argv, tls):
        self.ctx, self.name, self.argv, self.tls = ctx, name, argv, tls
        self.proc = None
        self.port = None
        self.log_paths = []
        ctx.daemons.append(self)

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def start(self, port=0, timeout=30):
        """Starts the child (port 0: any free port) and waits for its "listening" log line. A restart on a fixed
        port retries while the port is still held (a killed process's sockets take a moment to go)."""
        deadline = time.monotonic() + timeout
        while True:
            gen = len(self.log_paths) + 1
            log_path = self.ctx.path("%s.%d.log" % (self.name, gen))
            self.log_paths.append(log_path)
            with open(log_path, "wb") as err, open(self.ctx.path("%s.%d.out" % (self.name, gen)), "wb") as out:
                self.proc = subprocess.Popen([self.ctx.vcp] + self.argv + ["--listen", "127.0.0.1:%d" % port],
                                             stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                             preexec_fn=die_with_parent)
            while time.monotonic() < deadline:
                for ev in self.events():
                    if ev.get("event") == "listening" and "port" in ev:
                        self.port = int(ev["port"])
                        if port and self.port != port:
                            raise Fail("%s listened on port %d, asked for %d" % (self.name, self.port, port))
                        return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            rc = self.proc.poll()
            text = self.log_text()
            if rc is not None and port and "in use" in text.lower() and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            raise Fail("%s did not log {\"event\":\"listening\",\"port\":N} (%s): `%s`\n%s" % (
                self.name, "exited %s" % rc if rc is not None else "still running after %d s" % timeout,
                " ".join([self.ctx.vcp] + self.argv), text[-3000:]))

    def log_text(self):
        try:
            with open(self.log_paths[-1], errors="replace") as f:
                return f.read()
        except (OSError, IndexError):
            return ""

    def events(self):
        """The JSON log lines of the current start, parsed; other lines skipped."""
        out = []
        for line in self.log_text().splitlines():
            line = line.strip()
            if line.startswith("{") and line.endswith("}"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if not self.alive():
            raise Fail("%s is not running (exit %s) when sending %s:\n%s" % (
                self.name, self.proc.poll() if self.proc else None, signal.Signals(sig).name,
                self.log_text()[-2000:]))
        self.proc.send_signal(sig)

    def kill9(self):
        self.signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout=45):
        """SIGTERM and wait: returns the exit status."""
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise Fail("%s did not exit within %d s of SIGTERM" % (self.name, timeout))

    def kill_quietly(self):
        if self.alive():
            try:
                self.proc.send_signal(signal.SIGCONT)
                self.proc.kill()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                pass

    # -- HTTP to this daemon -------------------------------------------------------------------------------------
    def ctx_ssl(self):
        return self.ctx.client_ctx() if self.tls else None

    def get(self, path, accept="application/json", timeout=30):
        return request("GET", self.url + path, accept=accept, ctx=self.ctx_ssl(), timeout=timeout)

    def post(self, path, body, content_type=MESSAGE_TYPE, accept=MESSAGE_TYPE, timeout=30, method="POST"):
        return request(method, self.url + path, body=body, content_type=content_type, accept=accept,
                       ctx=self.ctx_ssl(), timeout=timeout)

    def get_json(self, path):
        r = self.get(path)
        if r.status != 200:
            raise Fail("GET %s%s: expected 200, got %r" % (self.name, path, r))
        return r.json()


def wait_for(what, fn, timeout, interval=0.25):
    """Polls fn() until it returns something truthy; Fail naming `what` and fn's last value on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() > deadline:
            raise Fail("timed out after %d s waiting for %s (last seen: %s)" % (timeout, what, str(last)[:1500]))
        time.sleep(interval)


# --------------------------------------------------------------------------------------------------------------
# Starting the services and driving leases.

def start_agent(ctx, name, verifier_keys, tls=True, extra=(), config=None, max_audit_share="1.0"):
    key_dir, provider_key = ctx.keygen(name + "-key")
    authorized = ctx.path(name + ".authorized_keys")
    with open(authorized, "w") as f:
        f.write("# verifiers allowed to offer leases to %s\n" % name)
        for i, k in enumerate(verifier_keys):
            f.write("%s verifier-%d\n" % (k, i))
    argv = []
    if config:
        # A partial config: the required paths come from the flags below (flags and config keys combine).
        cfg = ctx.path(name + ".json")
        with open(cfg, "w") as f:
            json.dump(config, f)
        argv = ["--config", cfg]
    argv = ["agent", "run"] + argv + ["--state", ctx.path(name + "-state"), "--key", key_dir,
            "--authorized-keys", authorized, "--backend", "cpu", "--threads", "1", "--max-audit-share", max_audit_share,
            "--log-level", "info"]
    if tls:
        t = ctx.tls()
        argv += ["--tls-cert", t.cert, "--tls-key", t.key]
    d = Daemon(ctx, name, argv + list(extra), tls)
    d.provider_key, d.key_dir, d.state_dir = provider_key, key_dir, ctx.path(name + "-state")
    return d.start()


def start_verifierd(ctx, tls=True, plain_agents=False, name="verifierd", key_dir=None):
    key_dir = key_dir or ctx.verifier_key()[0]
    argv = ["verifierd", "run", "--database", ctx.path(name + ".sqlite"), "--key", key_dir, "--verify-threads", "1",
            "--log-level", "info"]
    if tls:
        t = ctx.tls()
        argv += ["--tls-cert", t.cert, "--tls-key", t.key, "--agent-ca", t.ca]
    if plain_agents:
        argv.append("--allow-plain-agents")
    return Daemon(ctx, name, argv, tls).start()


def api_args(vd):
    return ["--api", vd.url] + (["--ca", vd.ctx.tls().ca] if vd.tls else [])


def add_lease(ctx, vd, agent, seconds=300):
    out = ctx.vcp_json(["verifierd", "lease", "add"] + api_args(vd) + [
        "--agent", agent.url, "--provider-key", agent.provider_key, "--kind", SHAPE["kind"], "--m", SHAPE["m"],
        "--n", SHAPE["n"], "--k", SHAPE["k"], "--tile", SHAPE["tile"], "--devices", SHAPE["devices"],
        "--rounds", SHAPE["rounds"], "--rate", RATE, "--slack", "1.0", "--allowance-ms", "0",
        "--seconds", seconds, "--audit-share", AUDIT_SHARE])
    lease = out.get("lease_id", "")
    ctx.check(re.fullmatch(r"[0-9a-f]{64}", lease) is not None and out.get("accepted") is True,
              "lease add %s" % agent.name,
              "lease %s accepted, deadline %s ms" % (lease[:16], out.get("deadline_ms")) if lease else repr(out))
    ctx.check(abs(float(out.get("deadline_ms", 0)) - DEADLINE_MS) < 1, "lease deadline %s" % agent.name,
              "%s ms (expected %d)" % (out.get("deadline_ms"), DEADLINE_MS))
    return lease


def report(vd, lease, settle_s=10.0):
    """The lease's report once every verdict in it is signed. An overdue epoch is listed unsigned (and counted) as
    what the runner would sign now; a record or a network event still in flight can change that, so the checks
    below look at settled reports. After settle_s the last report is returned as it is."""
    end = time.monotonic() + settle_s
    while True:
        rep = vd.get_json("/v1/leases/%s/report" % lease)
        unsigned = [v for v in rep.get("epoch_verdicts", []) if v.get("signed") is False] if isinstance(rep, dict) else []
        if not unsigned or time.monotonic() >= end:
            return rep
        time.sleep(0.1)


def verdict_list(rep):
    return [(v.get("epoch"), v.get("reason")) for v in rep.get("epoch_verdicts", [])]


def describe(rep):
    net = rep.get("network", {})
    return "epochs %s: passed %s failed %s missed %s void %s; reasons %s; network %s" % (
        rep.get("epochs"), rep.get("passed"), rep.get("failed"), rep.get("missed"), rep.get("void"),
        " ".join("%s:%s" % (e, r) for e, r in verdict_list(rep)),
        {k: v for k, v in net.items() if k not in ("events", "explanation")})


def wait_passes(ctx, vd, lease, count, timeout, allow=("pass",), label=""):
    """Waits for `count` passing epochs; fails at once on a verdict whose reason is not in `allow`."""
    def poll():
        rep = report(vd, lease)
        bad = [(e, r) for e, r in verdict_list(rep) if r not in allow]
        if bad:
            raise Fail("lease %s%s: unexpected verdicts %s; %s" % (lease[:16], label, bad, describe(rep)))
        return rep if rep.get("passed", 0) >= count else None
    return wait_for("%d passing epochs of lease %s%s" % (count, lease[:16], label), poll, timeout)


def export_http(ctx, vd, lease, name):
    """The lease's evidence over HTTP, parsed with `vcp inspect` (used for polling; `lease export` at the end)."""
    r = vd.get("/v1/leases/%s/evidence" % lease, accept="application/octet-stream")
    if r.status != 200:
        raise Fail("GET evidence of %s: expected 200, got %r" % (lease[:16], r))
    d = ctx.path(name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "verifier.log"), "wb") as f:
        f.write(r.body)
    return inspect_log(ctx, d)


def export_cli(ctx, vd, lease, name):
    d = ctx.path(name)
    ctx.vcp_run(["verifierd", "lease", "export"] + api_args(vd) + ["--lease", lease, "--out", d])
    if not os.path.isfile(os.path.join(d, "verifier.log")):
        raise Fail("`vcp verifierd lease export --out %s` wrote no %s/verifier.log" % (d, d))
    return inspect_log(ctx, d)


class Evidence:
    """A verifier.log image as `vcp inspect` reads it: the epoch starts in log order and every verdict."""

    def __init__(self, inspected):
        self.entries = inspected.get("entries", [])
        self.starts = [e["message"]["epoch"] for e in self.entries if e.get("type") == "epoch-start"]
        self.verdicts = [e["message"] for e in self.entries if e.get("type") == "verdict"]
        self.by_epoch = {}
        for v in self.verdicts:
            self.by_epoch.setdefault(v["epoch"], []).append(v)

    def open_epoch(self):
        """The last started epoch when it has no verdict yet, else None."""
        if self.starts and self.starts[-1] not in self.by_epoch:
            return self.starts[-1]
        return None


def inspect_log(ctx, directory):
    return Evidence(ctx.vcp_json(["inspect", os.path.join(directory, "verifier.log")]))


def check_evidence(ctx, label, before, after):
    """No verdict lost or changed, no epoch counted twice, epoch numbers contiguous."""
    lost = [v["epoch"] for v in before.verdicts if v not in after.by_epoch.get(v["epoch"], [])]
    ctx.check(not lost, "%s: every verdict before the kill still there unchanged" % label,
              "%d verdicts before, all present byte-equal after" % len(before.verdicts) if not lost else
              "verdicts of epochs %s missing or changed" % lost)
    ctx.check(after.starts == list(range(len(after.starts))), "%s: epoch numbers contiguous and unique" % label,
              "epochs 0..%d" % (len(after.starts) - 1) if after.starts == list(range(len(after.starts)))
              else "starts in log order: %s" % after.starts)
    twice = sorted(e for e, vs in after.by_epoch.items() if len(vs) > 1)
    ctx.check(not twice, "%s: one verdict per epoch" % label, "%d verdicts" % len(after.verdicts) if not twice
              else "epochs with more than one verdict: %s" % twice)
    unclosed = [e for e in after.starts[:-1] if e not in after.by_epoch]
    ctx.check(not unclosed, "%s: every epoch but the last closed" % label, "open: %s" % after.open_epoch()
              if not unclosed else "epochs without verdict: %s" % unclosed)


def agent_lease(agent, lease):
    return agent.get_json("/v1/leases/%s" % lease)


def events_with(daemon, event):
    return [e for e in daemon.events() if e.get("event") == event]


def trigger_on_event(daemon, event, after_count, timeout, act):
    """Polls the daemon's log every 2 ms; the moment a new `event` line appears runs act(that line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        evs = events_with(daemon, event)
        if len(evs) > after_count:
            act(evs[after_count])
            return evs[after_count]
        time.sleep(0.002)
    raise Fail("%s logged no new %r line within %d s" % (daemon.name, event, timeout))


def expect_second_refused(ctx, daemon, what):
    """A second process on the same state (store lock / database lock) must exit at once, naming the holder."""
    argv = [ctx.vcp] + daemon.argv + ["--listen", "127.0.0.1:0"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=die_with_parent)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise Fail("a second %s on the same %s kept running: %s" % (daemon.name, what, out.decode()[-600:]))
    text = out.decode(errors="replace").strip()
    last = text.splitlines()[-1] if text else ""
    ctx.check(proc.returncode != 0 and re.search(r"lock|in use|held|another", text, re.I) is not None,
              "a second %s on the same %s is refused" % (daemon.name, what), "exit %d: %s" % (
                  proc.returncode, last[:200]))


def require_cli(ctx):
    for cmd, flag in ((["agent", "run", "--help"], "--authorized-keys"),
                      (["verifierd", "run", "--help"], "--database")):
        p = ctx.vcp_run(cmd, codes=None)
        out = (p.stdout + p.stderr).decode(errors="replace")
        if p.returncode != 0 or flag not in out:
            raise Fail("`vcp %s` (exit %d) does not describe %s: this vcp has no such command yet\n%s" % (
                " ".join(cmd), p.returncode, flag, out[-800:]))


# --------------------------------------------------------------------------------------------------------------
# Scenarios.

def scenario_tls_three_agents(ctx):
    vd = start_verifierd(ctx, tls=True)
    vk = ctx.verifier_key()[1]
    agents = [start_agent(ctx, "agent%d" % i, [vk], tls=True) for i in range(3)]
    a0 = agents[0]
    r = a0.get("/healthz", accept="text/plain")
    ctx.check(r.status == 200, "agent healthz over TLS", repr(r))
    try:
        request("GET", a0.url + "/healthz", ctx=ssl.create_default_context(), timeout=10)
        raise Fail("a client without the test CA reached the agent: TLS not verified or not used")
    except ssl.SSLCertVerificationError as e:
        ctx.check(True, "client without the test CA refused", str(e.reason))
    r = vd.get("/healthz", accept="text/plain")
    ctx.check(r.status == 200, "verifierd healthz over TLS", repr(r))
    ready = a0.get_json("/readyz")
    ctx.check(ready.get("ready") is True and ready.get("devices") and all(d.get("ok") for d in ready["devices"]),
              "agent readyz: every device ran the probe correctly", json.dumps(ready)[:300])

    leases = [add_lease(ctx, vd, a) for a in agents]
    for a, lease in zip(agents, leases):
        rep = wait_passes(ctx, vd, lease, 3, timeout=75, label=" (%s)" % a.name)
        ctx.check(rep.get("failed") == 0 and rep.get("missed") == 0, "%s: several epochs, all pass" % a.name,
                  describe(rep))
    listed = ctx.vcp_json(["verifierd", "lease", "list"] + api_args(vd))
    text = json.dumps(listed)
    ctx.check(all(lease in text for lease in leases), "lease list names the three leases",
              "%d bytes of JSON" % len(text) if all(lease in text for lease in leases) else text[:1000])
    for a, lease in zip(agents, leases):
        st = agent_lease(a, lease)
        ctx.check(int(st.get("epochs", 0)) >= 3, "%s lists the lease with its epochs" % a.name,
                  "epochs %s, last %s, busy %s" % (st.get("epochs"), st.get("last_epoch"), st.get("busy")))
        final = report(vd, lease)
        ctx.check(final.get("passed") == final.get("epochs") and final.get("all_passed") is True,
                  "%s final report all passed" % a.name, describe(final))


def scenario_lazy_agent(ctx):
    vd = start_verifierd(ctx, tls=False, plain_agents=True)
    agent = start_agent(ctx, "lazy-agent", [ctx.verifier_key()[1]], tls=False, extra=["--simulate-lazy", "0.5"])
    lease = add_lease(ctx, vd, agent)
    rep = wait_for("two closed epochs of the lazy agent's lease",
                   lambda: (lambda r: r if r.get("epochs", 0) >= 2 else None)(report(vd, lease)), 60)
    reasons = [r for _, r in verdict_list(rep)]
    ctx.check(reasons and all(r == "tile-mismatch" for r in reasons), "lazy agent caught with tile-mismatch",
              "verdicts %s" % verdict_list(rep))
    ctx.check(rep.get("failed") == rep.get("epochs") and rep.get("passed") == 0 and rep.get("all_passed") is False,
              "report says failed", describe(rep))
    net = rep.get("network", {})
    ctx.check(net.get("failed", 0) >= 2 and net.get("unreachable_epochs", 0) == 0 and net.get("late", 0) == 0,
              "network section counts them failed, not unreachable or late",
              str({k: x for k, x in net.items() if k not in ("events", "explanation")}))
    cli = ctx.vcp_run(["verifierd", "lease", "report"] + api_args(vd) + ["--lease", lease], codes=None)
    out = (cli.stdout + cli.stderr).decode(errors="replace")
    ctx.check("tile-mismatch" in out, "`vcp verifierd lease report` names tile-mismatch",
              "exit %d" % cli.returncode if "tile-mismatch" in out else out[-1500:])
    m = parse_metrics(vd.get("/metrics", accept="text/plain").body.decode())
    n = metric_sum(m, "vcp_verifierd_lease_failures_total", reason="tile-mismatch")
    ctx.check(n >= 2, "vcp_verifierd_lease_failures_total{reason=\"tile-mismatch\"}", "%g" % n)


def wait_passes_or_missed(ctx, vd, lease, missed, timeout):
    """Waits for `missed` missed epochs; a verdict other than pass or missed fails at once."""
    def poll():
        rep = report(vd, lease)
        bad = [(e, r) for e, r in verdict_list(rep) if r not in ("pass", "missed")]
        if bad:
            raise Fail("lease %s: unexpected verdicts %s; %s" % (lease[:16], bad, describe(rep)))
        return rep if rep.get("missed", 0) >= missed else None
    return wait_for("%d missed epochs of lease %s" % (missed, lease[:16]), poll, timeout)


def scenario_agent_stops(ctx):
    vd = start_verifierd(ctx, tls=True)
    agent = start_agent(ctx, "agent", [ctx.verifier_key()[1]], tls=True)
    lease = add_lease(ctx, vd, agent)
    rep = wait_passes(ctx, vd, lease, 2, timeout=40)
    ctx.check(True, "epochs pass before the stop", describe(rep))

    agent.signal(signal.SIGSTOP)
    say("     agent SIGSTOPped")
    rep = wait_passes_or_missed(ctx, vd, lease, missed=1, timeout=40)
    net = rep.get("network", {})
    accounted = net.get("unreachable_epochs", 0) + net.get("missed_reachable", 0)
    ctx.check(rep.get("missed", 0) >= 1, "stopped agent: epochs missed", describe(rep))
    ctx.check(accounted == rep.get("missed"), "report's network section counts the missed epochs",
              "missed %s = unreachable %s + missed while reachable %s" % (
                  rep.get("missed"), net.get("unreachable_epochs"), net.get("missed_reachable")))
    agent.signal(signal.SIGCONT)
    say("     agent SIGCONTed")
    passed = rep["passed"]
    rep = wait_passes(ctx, vd, lease, passed + 2, timeout=40, allow=("pass", "missed"))
    ctx.check(rep["passed"] >= passed + 2, "after SIGCONT epochs pass again", describe(rep))
    last_reasons = [r for _, r in verdict_list(rep)][-2:]
    ctx.check(last_reasons == ["pass", "pass"], "the latest epochs pass", str(verdict_list(rep)[-4:]))

    before = agent_lease(agent, lease)
    rc = agent.terminate()
    ctx.check(rc == 0, "agent exits 0 on SIGTERM", "exit %d" % rc)
    rep = report(vd, lease)
    missed, unreachable = rep["missed"], rep.get("network", {}).get("unreachable_epochs", 0)
    rep = wait_passes_or_missed(ctx, vd, lease, missed=missed + 1, timeout=40)
    net = rep.get("network", {})
    ctx.check(net.get("unreachable_epochs", 0) - unreachable == rep["missed"] - missed,
              "agent down: the missed epochs counted unreachable", "%d more missed, %d more unreachable; %s" % (
                  rep["missed"] - missed, net.get("unreachable_epochs", 0) - unreachable, describe(rep)))
    agent.start(port=agent.port)
    say("     agent restarted on port %d" % agent.port)
    passed = rep["passed"]
    rep = wait_passes(ctx, vd, lease, passed + 2, timeout=40, allow=("pass", "missed"))
    ctx.check(rep["passed"] >= passed + 2, "after the restart epochs pass again", describe(rep))
    st = agent_lease(agent, lease)
    last_pass = max(e for e, r in verdict_list(rep) if r == "pass")
    ctx.check(int(st.get("epochs", 0)) >= int(before.get("epochs", 0)) + 2 and st.get("last_epoch") >= last_pass,
              "restarted agent resumed the lease", "agent epochs %s before the stop, %s now (last %s)" % (
                  before.get("epochs"), st.get("epochs"), st.get("last_epoch")))


def scenario_verifierd_kill9(ctx):
    vd = start_verifierd(ctx, tls=True)
    agent = start_agent(ctx, "agent", [ctx.verifier_key()[1]], tls=True)
    lease = add_lease(ctx, vd, agent)
    wait_passes(ctx, vd, lease, 2, timeout=40)

    # Kill 1: the epoch start is committed and sent, the agent (stopped) has not answered: an open epoch.
    agent.signal(signal.SIGSTOP)
    before1 = wait_for("an open epoch at verifierd (start sent to the stopped agent)",
                       lambda: (lambda ev: ev if ev.open_epoch() is not None else None)(
                           export_http(ctx, vd, lease, "evidence-poll")), 30, interval=0.1)
    vd.kill9()
    e1 = before1.open_epoch()
    say("     verifierd SIGKILLed with epoch %d open (no record yet)" % e1)
    agent.signal(signal.SIGCONT)
    vd.start()
    rep = wait_for("a verdict for the interrupted epoch %d" % e1,
                   lambda: (lambda r: r if any(e == e1 for e, _ in verdict_list(r)) else None)(report(vd, lease)),
                   30)
    ctx.check(True, "interrupted epoch %d closed after the restart" % e1,
              "verdict %s" % [r for e, r in verdict_list(rep) if e == e1])
    wait_passes(ctx, vd, lease, rep["passed"] + 1, timeout=30, allow=("pass", "missed", "void-verifier-down"))

    # Kill 2: the moment the agent has signed a record (the record on its way, the challenge not yet issued).
    # Kill 3: the moment verifierd logged the record's arrival (the challenge next).
    befores, interrupted = [(before1, "kill 1 (epoch %d open, no record)" % e1)], [e1]
    for kill, (who, event) in enumerate(((agent, "epoch-proven"), (vd, "record-received")), 2):
        before = export_http(ctx, vd, lease, "evidence-before%d" % kill)
        hit = trigger_on_event(who, event, len(events_with(who, event)), 30, lambda ev: vd.kill9())
        e = int(hit.get("epoch", -1))
        logged = [(int(x.get("epoch", -1)), x.get("reason")) for x in events_with(vd, "epoch-closed")]
        say("     verifierd SIGKILLed the moment %s logged %s for epoch %d (%s)" % (
            who.name, event, e, "its verdict already logged" if any(x == e for x, _ in logged) else
            "no verdict logged yet: mid-epoch"))
        vd.start()
        rep = wait_for("a verdict for the interrupted epoch %d" % e,
                       lambda: (lambda r: r if any(x == e for x, _ in verdict_list(r)) else None)(report(vd, lease)),
                       30)
        ctx.check(True, "interrupted epoch %d closed after the restart" % e,
                  "verdict %s" % [r for x, r in verdict_list(rep) if x == e])
        have = set(verdict_list(rep))
        lost = [v for v in logged if v not in have]
        ctx.check(not lost, "kill %d: every verdict the killed process logged is in the report" % kill,
                  "%d logged verdicts" % len(logged) if not lost else "lost: %s" % lost)
        befores.append((before, "kill %d (%s by %s, epoch %d)" % (kill, event, who.name, e)))
        interrupted.append(e)
        wait_passes(ctx, vd, lease, rep["passed"] + 1, timeout=30,
                    allow=("pass", "missed", "void-verifier-down", "late", "no-response"))
    rep = wait_passes(ctx, vd, lease, report(vd, lease)["passed"] + 1, timeout=30,
                      allow=("pass", "missed", "void-verifier-down", "late", "no-response"))
    later = [r for e, r in verdict_list(rep) if e > interrupted[-1]]
    ctx.check(later and all(r == "pass" for r in later), "epochs after the restarts pass", str(later))

    expect_second_refused(ctx, vd, "database")
    after = export_cli(ctx, vd, lease, "evidence-after")
    for before, label in befores:
        check_evidence(ctx, label, before, after)
    for e in interrupted:
        ctx.check(len(after.by_epoch.get(e, [])) == 1, "interrupted epoch %d has exactly one verdict" % e,
                  str([v.get("reason") for v in after.by_epoch.get(e, [])]))
    samples = parse_metrics(vd.get("/metrics", accept="text/plain").body.decode())
    counted = metric_sum(samples, "vcp_verifierd_lease_epochs_total", lease=lease[:16])
    rep = report(vd, lease)
    ctx.check(counted <= rep["epochs"], "vcp_verifierd_lease_epochs_total counts no epoch twice across restarts",
              "%g counted by the last process, %d epochs closed" % (counted, rep["epochs"]))
    closed = len(after.verdicts)
    # The report may have moved on since the export; it must never count an epoch twice.
    ctx.check(closed <= rep["epochs"] <= closed + 2 and len(rep.get("epoch_verdicts", [])) == rep["epochs"] and
              len({e for e, _ in verdict_list(rep)}) == rep["epochs"],
              "report counts each verdict once", "%d verdicts exported, report %s" % (closed, describe(rep)))


def scenario_agent_kill9(ctx):
    vd = start_verifierd(ctx, tls=True)
    agent = start_agent(ctx, "agent", [ctx.verifier_key()[1]], tls=True)
    lease = add_lease(ctx, vd, agent)
    wait_passes(ctx, vd, lease, 2, timeout=40)

    # Kill 1: right after the agent signed a record; the verifier's challenge comes next.
    proven = len(events_with(agent, "epoch-proven"))
    hit = trigger_on_event(agent, "epoch-proven", proven, 30, lambda ev: agent.kill9())
    e1 = int(hit.get("epoch", -1))
    answered = [e for e in events_with(agent, "challenge-answered") if int(e.get("epoch", -1)) == e1]
    say("     agent SIGKILLed after signing epoch %d's record (%s)" % (
        e1, "its challenge was already answered" if answered else "before its challenge was answered"))
    agent.start(port=agent.port)
    rep = wait_for("a verdict for epoch %d" % e1,
                   lambda: (lambda r: r if any(e == e1 for e, _ in verdict_list(r)) else None)(report(vd, lease)),
                   40)
    v1 = [r for e, r in verdict_list(rep) if e == e1]
    ctx.check(v1 == ["pass"], "epoch %d passes after the agent's restart (challenge answered by the new process)"
              % e1, "verdict %s; %s" % (v1, describe(rep)))
    st = agent_lease(agent, lease)
    ctx.check(int(st.get("epochs", 0)) >= e1 + 1, "restarted agent resumed the lease",
              "epochs %s, last %s" % (st.get("epochs"), st.get("last_epoch")))

    # Kill 2: the agent is stopped with the verifier's epoch start waiting in its socket.
    agent.signal(signal.SIGSTOP)
    ev = wait_for("an open epoch at verifierd (start sent to the stopped agent)",
                  lambda: (lambda ev: ev if ev.open_epoch() is not None else None)(
                      export_http(ctx, vd, lease, "evidence-poll")), 30, interval=0.1)
    e2 = ev.open_epoch()
    agent.kill9()
    agent.start(port=agent.port)
    say("     agent SIGKILLed while stopped with epoch %d's start pending, restarted" % e2)
    rep = wait_for("a verdict for epoch %d" % e2,
                   lambda: (lambda r: r if any(e == e2 for e, _ in verdict_list(r)) else None)(report(vd, lease)),
                   30)
    v2 = [r for e, r in verdict_list(rep) if e == e2]
    ctx.check(len(v2) == 1 and v2[0] in ("pass", "missed"), "epoch %d closed once (pass or missed)" % e2, str(v2))
    rep = wait_passes(ctx, vd, lease, rep["passed"] + 2, timeout=30, allow=("pass", "missed"))
    later = [r for e, r in verdict_list(rep) if e > e2]
    ctx.check(later and all(r == "pass" for r in later), "epochs after the restart pass", str(later))
    st = agent_lease(agent, lease)
    ctx.check(int(st.get("epochs", 0)) >= e2 + 3, "agent lists the lease with every epoch",
              "agent epochs %s, last %s (verifier: %d epochs)" % (st.get("epochs"), st.get("last_epoch"),
                                                                  rep["epochs"]))
    expect_second_refused(ctx, agent, "state dir")


def expect_error(ctx, name, resp, statuses):
    ok = resp.status in statuses and resp.ctype() == "application/json"
    body = None
    if ok:
        try:
            body = json.loads(resp.body.decode())
        except ValueError:
            ok = False
    ok = ok and isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"] != "" and \
        isinstance(body.get("kind"), str) and body.get("status") == resp.status
    ctx.check(ok, name, "%d %s: %s" % (resp.status, body.get("kind"), body["error"][:140]) if ok else
              "expected %s with a JSON error body {error, kind, status}, got %r" % (statuses, resp))
    return body


def scenario_bad_requests(ctx):
    vk_dir, vk = ctx.verifier_key()
    uk_dir, _ = ctx.keygen("unauthorized-key")
    # One epoch start per epoch deadline's worth of tokens, refilled at 1% of wall time: the second start of a
    # lease in quick succession is over the limit (the bucket holds burst_epochs starts; see /v1/info).
    agent = start_agent(ctx, "agent", [vk], tls=True, config={"burst_epochs": 1}, max_audit_share="0.01")
    info = agent.get_json("/v1/info")
    ctx.check(info.get("provider_key") == agent.provider_key, "agent /v1/info",
              "burst_epochs %s, max_audit_share %s, max_body_bytes %s" % (
                  info.get("burst_epochs"), info.get("max_audit_share"), info.get("max_body_bytes")))

    # A 6 s deadline: these epochs are driven by CLI processes, whose start-up must not make them late.
    lease_flags = ["--provider-key", agent.provider_key, "--rate", RATE // 4, "--rounds", SHAPE["rounds"], "--slack",
                   "1.0", "--m", SHAPE["m"], "--n", SHAPE["n"], "--k", SHAPE["k"], "--tile", SHAPE["tile"],
                   "--hours", "0.05", "--audit-share", AUDIT_SHARE]

    def new_lease(name, key_dir):
        ctx.vcp_run(["lease", "new", "--key", key_dir, "--store", ctx.path(name + "-vs"), "--out",
                     ctx.path(name + ".lease")] + lease_flags)
        with open(ctx.path(name + ".lease"), "rb") as f:
            data = f.read()
        return data, ctx.vcp_json(["inspect", ctx.path(name + ".lease")])["lease_id"]

    def save(name, data):
        with open(ctx.path(name), "wb") as f:
            f.write(data)
        return ctx.path(name)

    def read(name):
        with open(ctx.path(name), "rb") as f:
            return f.read()

    # Lease A: offered by the authorized verifier, driven by a file-based verifier store against the agent.
    lease_a, id_a = new_lease("a", vk_dir)
    r = agent.post("/v1/leases", lease_a)
    ctx.check(r.status == 200 and r.ctype() == MESSAGE_TYPE, "lease offered by an authorized key accepted", repr(r)
              if r.status != 200 else "%d bytes of %s" % (len(r.body), r.ctype()))
    acc = r.body
    acc_json = ctx.vcp_json(["inspect", save("a.acceptance", acc)])
    ctx.check(acc_json.get("type") == "lease-acceptance" and acc_json.get("lease_id") == id_a, "acceptance signed",
              "lease %s" % id_a[:16])
    r = agent.post("/v1/leases", lease_a)
    ctx.check(r.status == 200 and r.body == acc, "same lease again: the same acceptance",
              r.brief() if r.status == 200 else repr(r))
    r = agent.post("/v1/leases", lease_a, accept="application/json")
    ctx.check(r.status == 200 and r.ctype() == "application/json" and r.json().get("lease_id") == id_a,
              "Accept: application/json gives the acceptance as JSON", r.brief() if r.status == 200 else repr(r))

    def status_of(lease_id):
        st = agent_lease(agent, lease_id)
        return {k: st.get(k) for k in ("epochs", "last_epoch", "busy")}

    def lease_ids():
        return sorted(str(x.get("lease_id")) for x in agent.get_json("/v1/leases").get("leases", []))

    snap = status_of(id_a)
    ids = lease_ids()
    ctx.check(ids == [id_a], "agent lists lease A", str(snap))

    def unchanged(label):
        now, now_ids = status_of(id_a), lease_ids()
        ctx.check(now == snap and now_ids == ids, "lease status unchanged after %s" % label,
                  str(now) if now == snap and now_ids == ids else "was %s %s, now %s %s" % (snap, ids, now, now_ids))

    # Unauthorized verifier key.
    lease_u, id_u = new_lease("u", uk_dir)
    expect_error(ctx, "lease from an unauthorized verifier key -> 403", agent.post("/v1/leases", lease_u), (403,))
    expect_error(ctx, "the refused lease is unknown -> 404", agent.get("/v1/leases/%s" % id_u), (404,))
    stored = [os.path.join(d, n) for d, dirs, files in os.walk(agent.state_dir) for n in dirs + files
              if id_u in n or id_u.upper() in n]
    ctx.check(not stored, "nothing stored for the refused lease", "state dir holds no %s" % id_u[:16] if not stored
              else str(stored))
    unchanged("the unauthorized offer")

    # Malformed, truncated, wrong type, oversized, wrong content type, routes and methods.
    expect_error(ctx, "malformed lease body -> 400", agent.post("/v1/leases", b"this is not a lease\n" * 3), (400,))
    expect_error(ctx, "truncated lease -> 400", agent.post("/v1/leases", lease_a[:-7]), (400,))
    expect_error(ctx, "an acceptance where a lease belongs -> 400", agent.post("/v1/leases", acc), (400,))
    expect_error(ctx, "malformed epoch start -> 400", agent.post("/v1/leases/%s/epochs" % id_a, os.urandom(200)),
                 (400,))
    expect_error(ctx, "a lease where an epoch start belongs -> 400",
                 agent.post("/v1/leases/%s/epochs" % id_a, lease_a), (400,))
    limit = int(info.get("max_body_bytes") or (1 << 20))
    expect_error(ctx, "oversized body (%d bytes) -> 413" % (limit + 1),
                 agent.post("/v1/leases", b"\0" * (limit + 1)), (413,))
    expect_error(ctx, "lease as text/plain -> 415", agent.post("/v1/leases", lease_a, content_type="text/plain"),
                 (415,))
    expect_error(ctx, "lease without a content type -> 415", agent.post("/v1/leases", lease_a, content_type=None),
                 (415,))
    expect_error(ctx, "unknown route -> 404", agent.get("/v1/nothing-here"), (404,))
    expect_error(ctx, "GET unknown lease -> 404", agent.get("/v1/leases/%s" % ("ab" * 32)), (404,))
    expect_error(ctx, "challenge for an unknown lease -> 404",
                 agent.post("/v1/leases/%s/challenges" % ("ab" * 32), acc), (404, 400))
    expect_error(ctx, "DELETE /v1/leases -> 405", agent.post("/v1/leases", b"", method="DELETE"), (405,))
    unchanged("malformed and misrouted requests")

    # Lease B: accepted by the agent, but its first epochs run against a local provider store (the agent's key,
    # another store), so the verifier holds a challenge and starts the agent never saw.
    lease_b, id_b = new_lease("b", vk_dir)
    r = agent.post("/v1/leases", lease_b)
    ctx.check(r.status == 200, "lease B accepted", r.brief() if r.status == 200 else repr(r))
    save("b.acceptance", r.body)
    ids = lease_ids()
    vs_b, ps_b = ctx.path("b-vs"), ctx.path("b-ps")
    ctx.vcp_run(["lease", "accept", "--lease", ctx.path("b.lease"), "--key", agent.key_dir, "--store", ps_b,
                 "--out", ctx.path("b.local-acceptance")])
    for e in range(2):
        ctx.vcp_run(["epoch", "start", "--store", vs_b, "--key", vk_dir, "--out", ctx.path("b.start%d" % e)] +
                    (["--acceptance", ctx.path("b.acceptance")] if e == 0 else []))
        ctx.vcp_run(["prove", "--store", ps_b, "--key", agent.key_dir, "--start", ctx.path("b.start%d" % e),
                     "--out", ctx.path("b.record%d" % e), "--backend", "cpu", "--threads", "1"])
        ctx.vcp_run(["challenge", "--store", vs_b, "--key", vk_dir, "--record", ctx.path("b.record%d" % e),
                     "--out", ctx.path("b.challenge%d" % e)])
        ctx.vcp_run(["respond", "--store", ps_b, "--key", agent.key_dir, "--challenge",
                     ctx.path("b.challenge%d" % e), "--out", ctx.path("b.response%d" % e)])
        ctx.vcp_run(["verify", "--store", vs_b, "--key", vk_dir, "--response", ctx.path("b.response%d" % e)],
                    codes=(0, 1))
    ctx.vcp_run(["epoch", "start", "--store", vs_b, "--key", vk_dir, "--out", ctx.path("b.start2")])
    snap_b = status_of(id_b)
    expect_error(ctx, "challenge before any record -> 4xx",
                 agent.post("/v1/leases/%s/challenges" % id_b, read("b.challenge0")), range(400, 429))
    expect_error(ctx, "epoch 2 start chained to records the agent never made -> 4xx",
                 agent.post("/v1/leases/%s/epochs" % id_b, read("b.start2")), range(400, 429))
    expect_error(ctx, "lease B's start under lease A's path -> 400",
                 agent.post("/v1/leases/%s/epochs" % id_a, read("b.start2")), (400,))
    now_b = status_of(id_b)
    ctx.check(now_b == snap_b, "lease B status unchanged after the out-of-order requests", str(now_b))
    unchanged("the out-of-order requests")

    # A whole epoch of lease A over HTTP, then starts faster than the token bucket allows.
    vs_a = ctx.path("a-vs")
    burst = int(info.get("burst_epochs") or 1)
    passed = 0
    limited = None
    for e in range(burst + 2):
        ctx.vcp_run(["epoch", "start", "--store", vs_a, "--key", vk_dir, "--out", ctx.path("a.start%d" % e)] +
                    (["--acceptance", ctx.path("a.acceptance")] if e == 0 else []))
        start = read("a.start%d" % e)
        snap = status_of(id_a)
        r = agent.post("/v1/leases/%s/epochs" % id_a, start, timeout=30)
        if r.status == 429:
            limited = (e, r)
            break
        ctx.check(r.status == 200 and r.ctype() == MESSAGE_TYPE, "epoch %d start -> 200 record" % e,
                  r.brief() if r.status == 200 else repr(r))
        record = save("a.record%d" % e, r.body)
        r2 = agent.post("/v1/leases/%s/epochs" % id_a, start)
        ctx.check(r2.status == 200 and r2.body == r.body, "same start again: the same record",
                  r2.brief() if r2.status == 200 else repr(r2))
        ctx.vcp_run(["challenge", "--store", vs_a, "--key", vk_dir, "--record", record, "--out",
                     ctx.path("a.challenge%d" % e)])
        r = agent.post("/v1/leases/%s/challenges" % id_a, read("a.challenge%d" % e))
        ctx.check(r.status == 200 and r.ctype() == MESSAGE_TYPE, "epoch %d challenge -> 200 response" % e,
                  r.brief() if r.status == 200 else repr(r))
        v = ctx.vcp_json(["verify", "--store", vs_a, "--key", vk_dir, "--response",
                          save("a.response%d" % e, r.body)], codes=(0, 1))
        ctx.check(v.get("reason") == "pass", "epoch %d verified over HTTP: pass" % e,
                  v.get("detail", "") if v.get("reason") == "pass" else json.dumps(v)[:600])
        passed += 1
        snap = status_of(id_a)
    ctx.check(limited is not None, "epoch starts faster than the lease allows refused",
              "429 after %d epochs" % passed if limited else "no 429 in %d back-to-back epochs" % passed)
    e, r = limited
    body = expect_error(ctx, "too fast epoch start -> 429 JSON", r, (429,))
    retry = r.headers.get("retry-after", "")
    ctx.check(retry.isdigit() and int(retry) >= 1, "429 carries Retry-After", "Retry-After: %s s; body %s" % (
        retry, {k: body.get(k) for k in ("retry_after_s",)}))
    ctx.check(passed == burst, "the bucket allowed exactly burst_epochs starts", "%d starts, burst %d" % (passed,
                                                                                                      burst))
    unchanged("the refused start")

    # verifierd's lease API in front of the same agent, run with the key the agent does not authorize. This agent
    # allows a share of 0.01, so the lease asks for half of that: verifierd refuses more (docs/API.md 2.3).
    vd = start_verifierd(ctx, tls=True, key_dir=uk_dir)
    p = ctx.vcp_run(["verifierd", "lease", "add"] + api_args(vd) + [
        "--agent", agent.url, "--provider-key", agent.provider_key, "--m", 64, "--n", 64, "--k", 64, "--rounds", 2,
        "--rate", RATE, "--slack", "1.0", "--seconds", 600, "--audit-share", 0.005], codes=None)
    out = (p.stdout + p.stderr).decode(errors="replace").strip()
    ctx.check(p.returncode != 0 and "authorized" in out, "verifierd lease add with a key the agent refuses fails",
              "exit %d: %s" % (p.returncode, out[:200]))
    good = {"agent_url": agent.url, "provider_key": agent.provider_key, "workload": {"kind": "int8", "m": 64,
            "n": 64, "k": 64, "tile": 32}, "rounds": 2, "rate_per_device": RATE, "slack": 1.0, "duration_s": 600,
            "audit_share": 0.005}
    # 600 s: the 1.5 s deadline at a share of 0.005 expects 2 scheduled epochs (a share giving less than one is
    # refused: docs/PROTOCOL.md section 10.3).

    def vd_post(body):
        return request("POST", vd.url + "/v1/leases", body=body, content_type="application/json",
                       accept="application/json", ctx=vd.ctx_ssl())
    expect_error(ctx, "verifierd: the agent's refusal passed on -> 502", vd_post(json.dumps(good).encode()), (502,))
    expect_error(ctx, "verifierd: lease request that is not JSON -> 400", vd_post(b'{"agent_url": '), (400,))
    body = expect_error(ctx, "verifierd: lease request without rate_per_device -> 400", vd_post(json.dumps(
        {k: v for k, v in good.items() if k != "rate_per_device"}).encode()), (400,))
    ctx.check("rate_per_device" in body["error"], "verifierd: the 400 names the missing field", body["error"][:120])
    expect_error(ctx, "verifierd: slack 5.0 (invalid terms) -> 422",
                 vd_post(json.dumps(dict(good, slack=5.0)).encode()), (422,))
    body = expect_error(ctx, "verifierd: an audit share above half the agent's limit -> 422",
                        vd_post(json.dumps(dict(good, audit_share=0.0051)).encode()), (422,))
    ctx.check("at most 0.005" in body["error"], "verifierd: the 422 names the largest share allowed",
              body["error"][:160])
    # The same share over 60 s expects 0.2 scheduled epochs, a lease with no audit at all: refused with the
    # smallest share that gives one (1.5 s / 60 s = 0.025).
    body = expect_error(ctx, "verifierd: an audit share giving under one audit over the lease -> 422",
                        vd_post(json.dumps(dict(good, duration_s=60)).encode()), (422,))
    ctx.check("smallest share that gives one is 0.025" in body["error"],
              "verifierd: the 422 names the smallest share that gives one audit", body["error"][:200])
    # verifierd creates a lease before offering it (the offer is evidence too): a refused one must end unaccepted.
    listed = [(x.get("accepted"), x.get("state")) for x in vd.get_json("/v1/leases").get("leases", [])]
    ctx.check(listed and all(x == (False, "ended") for x in listed), "verifierd: refused leases ended, unaccepted",
              str(listed))
    ctx.check(lease_ids() == ids, "agent: the refused offers stored nothing", str(lease_ids()))
    rc = vd.terminate()
    ctx.check(rc == 0, "verifierd exits 0 on SIGTERM", "exit %d" % rc)

    m = parse_metrics(agent.get("/metrics", accept="text/plain").body.decode())
    for reason in ("unauthorized", "rate-limited"):
        n = metric_sum(m, "vcp_agent_requests_refused_total", reason=reason)
        ctx.check(n >= 1, "vcp_agent_requests_refused_total{reason=\"%s\"}" % reason, "%g" % n)
    n = metric_sum(m, "vcp_agent_epochs_proven_total")
    ctx.check(n == passed, "vcp_agent_epochs_proven_total counts only the epochs run", "%g" % n)
    rc = agent.terminate()
    ctx.check(rc == 0, "agent exits 0 on SIGTERM", "exit %d" % rc)


def promtool_check(ctx, name, text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    out = (p.stdout + p.stderr).decode(errors="replace").strip()
    ctx.check(p.returncode == 0, "promtool check metrics: %s" % name,
              "%d lines clean" % len(text.splitlines()) if p.returncode == 0 else out[:2000])


def scenario_metrics_promtool(ctx):
    if not shutil.which("promtool"):
        raise Skip("promtool is not installed (Debian: apt-get install prometheus)")
    vd = start_verifierd(ctx, tls=True)
    agent = start_agent(ctx, "agent", [ctx.verifier_key()[1]], tls=True)
    lease = add_lease(ctx, vd, agent)
    wait_passes(ctx, vd, lease, 1, timeout=40)
    expect_error(ctx, "a refused request (for a labelled refusal series)",
                 agent.post("/v1/leases", b"x", content_type="text/plain"), (415,))
    for d in (agent, vd):
        r = d.get("/metrics", accept="text/plain")
        ctx.check(r.status == 200 and r.headers.get("content-type", "").replace(" ", "").startswith(
            "text/plain;version=0.0.4"), "%s /metrics content type" % d.name, r.headers.get("content-type", ""))
        promtool_check(ctx, d.name, r.body.decode())
        d.samples = parse_metrics(r.body.decode())
    a, v = agent.samples, vd.samples
    checks = [  # (what, value, acceptable)
        ('agent vcp_build_info{service="agent"}', metric_sum(a, "vcp_build_info", service="agent"), lambda x: x == 1),
        ("agent vcp_agent_epochs_proven_total", metric_sum(a, "vcp_agent_epochs_proven_total"), lambda x: x >= 1),
        ("agent vcp_agent_challenges_answered_total", metric_sum(a, "vcp_agent_challenges_answered_total"),
         lambda x: x >= 1),
        ("agent vcp_agent_leases", metric_sum(a, "vcp_agent_leases"), lambda x: x == 1),
        ("agent vcp_agent_epoch_duration_seconds_count", metric_sum(a, "vcp_agent_epoch_duration_seconds_count"),
         lambda x: x >= 1),
        ("agent vcp_agent_requests_refused_total", metric_sum(a, "vcp_agent_requests_refused_total"),
         lambda x: x >= 1),
        ('verifierd vcp_build_info{service="verifierd"}', metric_sum(v, "vcp_build_info", service="verifierd"),
         lambda x: x == 1),
        ('verifierd vcp_verifierd_lease_epochs_total{lease="%s",outcome="pass"}' % lease[:16],
         metric_sum(v, "vcp_verifierd_lease_epochs_total", lease=lease[:16], outcome="pass"), lambda x: x >= 1),
        ("verifierd vcp_verifierd_lease_proven_operations_total",
         metric_sum(v, "vcp_verifierd_lease_proven_operations_total"), lambda x: x > 0),
        ("verifierd vcp_verifierd_verify_seconds_count", metric_sum(v, "vcp_verifierd_verify_seconds_count"),
         lambda x: x >= 1),
        ('verifierd vcp_verifierd_leases{state="active"}', metric_sum(v, "vcp_verifierd_leases", state="active"),
         lambda x: x == 1),
    ]
    for name, value, good in checks:
        ctx.check(good(value), name, "%g" % value)


def scenario_export_offline(ctx):
    vd = start_verifierd(ctx, tls=True)
    agent = start_agent(ctx, "agent", [ctx.verifier_key()[1]], tls=True)
    lease = add_lease(ctx, vd, agent, seconds=30)
    row = wait_for("lease %s to end (state \"ended\")" % lease[:16],
                   lambda: (lambda j: j if json.dumps(j).find('"ended"') >= 0 else None)(
                       vd.get_json("/v1/leases/%s" % lease)), 75, interval=0.5)
    ctx.check(True, "lease ran to its end", "state ended")
    service = report(vd, lease)
    ctx.check(service.get("epochs", 0) >= 2, "the lease closed several epochs", describe(service))
    cli = ctx.vcp_json(["verifierd", "lease", "report"] + api_args(vd) + ["--lease", lease], codes=(0, 1))
    cli = cli.get("report", cli)
    keys = ("epochs", "passed", "failed", "missed", "void", "scheduled", "on_demand", "proven_operations")
    ctx.check({k: cli.get(k) for k in keys} == {k: service.get(k) for k in keys},
              "`vcp verifierd lease report --json` equals the report endpoint", str({k: cli.get(k) for k in keys}))
    ev = export_cli(ctx, vd, lease, "export")
    r = vd.get("/v1/leases/%s/evidence" % lease, accept="application/octet-stream")
    with open(ctx.path("export", "verifier.log"), "rb") as f:
        exported = f.read()
    ctx.check(r.status == 200 and r.ctype() == "application/octet-stream" and r.body == exported,
              "GET evidence: application/octet-stream, the bytes `lease export` wrote", r.brief())
    ctx.check(ev.open_epoch() is None and len(ev.verdicts) == service["epochs"],
              "exported evidence: every epoch closed", "%d starts, %d verdicts" % (len(ev.starts), len(ev.verdicts)))
    bad_sigs = [e.get("type") for e in ev.entries if e.get("message", {}).get("signature_valid") is False]
    ctx.check(not bad_sigs, "every exported message's signature valid", str(bad_sigs))
    for d in (vd, agent):
        rc = d.terminate()
        ctx.check(rc == 0, "%s exits 0 on SIGTERM" % d.name, "exit %d" % rc)
    offline = ctx.vcp_json(["report", "--store", ctx.path("export")], codes=(0, 1))
    ctx.check({k: offline.get(k) for k in keys} == {k: service.get(k) for k in keys},
              "offline `vcp report --store` equals the service's counts", str({k: offline.get(k) for k in keys}))

    def sigs(rep):
        return [(v.get("epoch"), v.get("reason"), v.get("verifier_signature")) for v in rep.get("epoch_verdicts", [])]
    ctx.check(sigs(offline) == sigs(service), "offline report holds the same signed verdicts",
              "%d verdicts" % len(sigs(offline)) if sigs(offline) == sigs(service) else
              "offline %s\nservice %s" % (sigs(offline), sigs(service)))
    ctx.check(offline.get("availability", {}).get("lower_bound") == service.get("availability", {}).get(
        "lower_bound"), "same availability bound", str(offline.get("availability", {}).get("lower_bound")))


SCENARIOS = {
    "tls_three_agents": scenario_tls_three_agents,
    "lazy_agent": scenario_lazy_agent,
    "agent_stops": scenario_agent_stops,
    "verifierd_kill9": scenario_verifierd_kill9,
    "agent_kill9": scenario_agent_kill9,
    "bad_requests": scenario_bad_requests,
    "metrics_promtool": scenario_metrics_promtool,
    "export_offline": scenario_export_offline,
}


def on_alarm(signum, frame):
    raise Fail("the scenario ran past its %d s bound" % SCENARIO_LIMIT_S)


def on_terminate(signum, frame):
    raise Fail("terminated by %s" % signal.Signals(signum).name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vcp", required=True, help="path to the vcp binary (build/bin/vcp)")
    ap.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    ap.add_argument("--keep", action="store_true", help="keep the scenario's temporary directory")
    args = ap.parse_args()
    vcp = os.path.abspath(args.vcp)
    if not (os.path.isfile(vcp) and os.access(vcp, os.X_OK)):
        say("FAIL %s: --vcp %s is not an executable file" % (args.scenario, args.vcp))
        return 1
    directory = tempfile.mkdtemp(prefix="vcp-e2e-%s-" % args.scenario)
    ctx = Ctx(vcp, directory)
    t0 = time.monotonic()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_terminate)
    signal.alarm(SCENARIO_LIMIT_S)
    rc, keep = 1, args.keep
    try:
        require_cli(ctx)
        SCENARIOS[args.scenario](ctx)
        rc = 0
        say("scenario %s: PASS (%d checks, %.1f s)" % (args.scenario, ctx.checks, time.monotonic() - t0))
    except Skip as e:
        rc = SKIP
        say("scenario %s: SKIP: %s" % (args.scenario, e))
    except Fail as e:
        keep = True
        say("FAIL %s" % e)
        ctx.log_tails()
        say("scenario %s: FAIL after %d passing checks, %.1f s (files kept in %s)" % (
            args.scenario, ctx.checks, time.monotonic() - t0, directory))
    except Exception:  # a bug in this script or an unexpected answer: still kill the children, keep the files
        keep = True
        traceback.print_exc()
        ctx.log_tails()
        say("scenario %s: FAIL (error in the test, %.1f s; files kept in %s)" % (
            args.scenario, time.monotonic() - t0, directory))
    finally:
        signal.alarm(0)
        ctx.cleanup()
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())

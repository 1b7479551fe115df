#!/usr/bin/env python3
"""verifierd on one core: how many leases it keeps up with.

    python3 bench/service_load.py --vcp build/bin/vcp --leases N --share S --seconds T [--out FILE]

Starts one `vcp agent run` pinned to CPU 1 (CPU backend, 1 thread, --max-audit-share 1, --burst-epochs 1000,
max_connections N + 8) and one `vcp verifierd run` pinned to CPU 0 (--verify-threads 1), both over TLS on
127.0.0.1 (a throwaway CA and certificate made with openssl, keys with `vcp keygen`). Adds N leases through
verifierd's API (int8 64x64x64, tile 32, 1 device, 2 rounds, rate 2621440 ops/s, slack 0.25: a 500 ms deadline;
audit share S), waits T seconds, and measures over that window: verifierd's CPU seconds (utime + stime of
/proc/PID/stat), the epochs closed and their outcomes (GET /v1/leases), and late / missed epochs (each lease's
report). Prints one JSON object (and writes it to --out). Python 3 standard library only; every child is killed
in a finally.
"""

import argparse
import ctypes
import datetime
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

RATE = 2621440  # 2 rounds x 2 x 64^3 ops / 0.4 s; with slack 0.25 the deadline is 500 ms
WORKLOAD = {"kind": "int8", "m": 64, "n": 64, "k": 64, "tile": 32}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def die_with_parent():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    if p.returncode != 0:
        sys.exit("`%s` exited %d: %s" % (" ".join(argv), p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    return p.stdout.decode()


def make_tls(d):
    ca, ca_key, key, csr, cert, ext = (os.path.join(d, n) for n in
                                       ("ca.pem", "ca.key", "server.key", "server.csr", "server.pem", "ext"))
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509"] + ec + ["-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=bench CA",
                                            "-addext", "basicConstraints=critical,CA:TRUE",
                                            "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["openssl", "req"] + ec + ["-keyout", key, "-out", csr, "-subj", "/CN=localhost"])
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-set_serial", "0x1234", "-days", "2",
         "-out", cert, "-extfile", ext])
    return ca, cert, key


def start(argv, log_path, timeout=30):
    """Starts a service and returns (Popen, port) once its {"event":"listening"} line appears."""
    err = open(log_path, "wb")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                         preexec_fn=die_with_parent)
    err.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_path, errors="replace") as f:
            for line in f:
                line = line.strip()
                if line.startswith("{") and '"listening"' in line:
                    try:
                        ev = json.loads(line)
                    except ValueError:
                        continue
                    if ev.get("event") == "listening":
                        return p, int(ev["port"])
        if p.poll() is not None:
            break
        time.sleep(0.05)
    with open(log_path, errors="replace") as f:
        tail = f.read()[-3000:]
    p.kill()
    sys.exit("`%s` did not log listening (exit %s):\n%s" % (" ".join(argv), p.poll(), tail))


def http_json(method, port, path, ctx, body=None, timeout=30):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read().decode(errors="replace")
        if r.status not in (200, 201):
            raise RuntimeError("%s %s: HTTP %d %s" % (method, path, r.status, text[:500]))
        return json.loads(text)
    finally:
        conn.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def totals(port, ctx):
    leases = http_json("GET", port, "/v1/leases", ctx)["leases"]
    t = {k: sum(int(l.get(k) or 0) for l in leases) for k in ("epochs", "passed", "failed", "missed", "void")}
    t["open"] = sum(1 for l in leases if l.get("open_epoch") is not None)
    return leases, t


def late_counts(port, ctx, ids):
    late = unreachable = missed_reachable = 0
    reasons = {}
    for lid in ids:
        rep = http_json("GET", port, "/v1/leases/%s/report" % lid, ctx)
        net = rep.get("network", {})
        late += int(net.get("late", 0))
        unreachable += int(net.get("unreachable_epochs", 0))
        missed_reachable += int(net.get("missed_reachable", 0))
        for v in rep.get("epoch_verdicts", []):
            r = v.get("reason", "?")
            reasons[r] = reasons.get(r, 0) + 1
    return late, unreachable, missed_reachable, reasons


def machine():
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu_model": model, "nproc": os.cpu_count()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vcp", default="build/bin/vcp")
    ap.add_argument("--leases", type=int, required=True)
    ap.add_argument("--share", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--out")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    a = ap.parse_args()
    vcp = os.path.abspath(a.vcp)
    for tool in ("openssl", "taskset"):
        if not shutil.which(tool):
            sys.exit("%s is not installed" % tool)

    tmp = tempfile.mkdtemp(prefix="vcp-service-load-")
    children = []
    try:
        ca, cert, key = make_tls(tmp)
        ctx = ssl.create_default_context(cafile=ca)
        pkey_dir, vkey_dir = os.path.join(tmp, "provider"), os.path.join(tmp, "verifier")
        provider_key = json.loads(run([vcp, "--json", "keygen", "--out", pkey_dir]))["public_key"]
        verifier_key = json.loads(run([vcp, "--json", "keygen", "--out", vkey_dir]))["public_key"]
        authorized = os.path.join(tmp, "authorized_keys")
        with open(authorized, "w") as f:
            f.write("%s bench-verifier\n" % verifier_key)
        agent_cfg = os.path.join(tmp, "agent.json")
        with open(agent_cfg, "w") as f:
            json.dump({"max_connections": a.leases + 8}, f)

        agent, agent_port = start(
            ["taskset", "-c", "1", vcp, "agent", "run", "--config", agent_cfg, "--listen", "127.0.0.1:0",
             "--state", os.path.join(tmp, "agent-state"), "--key", pkey_dir, "--authorized-keys", authorized,
             "--tls-cert", cert, "--tls-key", key, "--backend", "cpu", "--threads", "1",
             "--max-audit-share", "1", "--burst-epochs", "1000", "--log-level", "info"],
            os.path.join(tmp, "agent.log"))
        children.append(agent)
        vd, vd_port = start(
            ["taskset", "-c", "0", vcp, "verifierd", "run", "--listen", "127.0.0.1:0",
             "--database", os.path.join(tmp, "verifierd.sqlite"), "--key", vkey_dir, "--tls-cert", cert,
             "--tls-key", key, "--agent-ca", ca, "--verify-threads", "1", "--log-level", "info"],
            os.path.join(tmp, "verifierd.log"))
        children.append(vd)

        ids = []
        for i in range(a.leases):
            out = http_json("POST", vd_port, "/v1/leases", ctx, body={
                "agent_url": "https://127.0.0.1:%d" % agent_port, "provider_key": provider_key,
                "mode": "interactive", "workload": WORKLOAD, "devices": 1, "rounds": 2,
                "rate_per_device": RATE, "slack": 0.25, "allowance_ms": 0,
                "duration_s": int(a.seconds + 60 + a.leases), "audit_share": a.share})
            if not out.get("accepted"):
                raise RuntimeError("lease %d not accepted: %s" % (i, out))
            if abs(float(out.get("deadline_ms", 0)) - 500) > 1:
                raise RuntimeError("lease %d: deadline %s ms, expected 500" % (i, out.get("deadline_ms")))
            ids.append(out["lease_id"])

        _, before = totals(vd_port, ctx)
        cpu0, t0 = cpu_seconds(vd.pid), time.monotonic()
        time.sleep(a.seconds)
        cpu1, t1 = cpu_seconds(vd.pid), time.monotonic()
        leases, after = totals(vd_port, ctx)
        late, unreachable, missed_reachable, reasons = late_counts(vd_port, ctx, ids)
        for p, name in ((agent, "agent"), (vd, "verifierd")):
            if p.poll() is not None:
                raise RuntimeError("%s exited %s during the run" % (name, p.poll()))

        window = t1 - t0
        cpu = cpu1 - cpu0
        d = {k: after[k] - before[k] for k in ("epochs", "passed", "failed", "missed", "void")}
        util = cpu / window
        expected = a.leases * window * a.share / 0.5  # scheduled epochs a perfect schedule would start
        result = {
            "machine": machine(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "N": a.leases, "S": a.share, "T": round(window, 3),
            "epochs_closed": d["epochs"], "passed": d["passed"], "late": late, "missed": d["missed"],
            "failed": d["failed"], "void": d["void"],
            "epochs_expected_approx": round(expected, 1),
            "open_epochs_at_end": after["open"],
            "lifetime_totals": {"epochs": after["epochs"], "passed": after["passed"], "failed": after["failed"],
                                "missed": after["missed"], "late": late, "unreachable": unreachable,
                                "missed_reachable": missed_reachable, "verdict_reasons": reasons},
            "verifierd_cpu_seconds": round(cpu, 3),
            "cpu_ms_per_epoch": round(1000 * cpu / d["epochs"], 3) if d["epochs"] else None,
            "core_utilisation": round(util, 4),
            "leases_per_core_at_share_0.02": round(a.leases * (a.share / 0.02) / util, 1) if util > 0 else None,
        }
        text = json.dumps(result, indent=2)
        print(text)
        if a.out:
            with open(a.out, "w") as f:
                f.write(text + "\n")
    finally:
        for p in reversed(children):
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        if a.keep:
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

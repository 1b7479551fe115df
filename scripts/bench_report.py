#!/usr/bin/python3
"""The benchmark report: scripts/bench's metadata and its summary of vcp_bench's Google Benchmark JSON.

  bench_report.py metadata --build DIR --out FILE [--quick 0|1] [--command CMD] [--note TEXT]
      Writes the run's context as JSON: git commit and dirty flag, machine (CPU model, cores, ISA flags, memory),
      compiler, library versions (OpenSSL, libsodium, oneDNN, Eigen, Google Benchmark; CUDA when built), date.
  bench_report.py report RUN_DIR [--figures DIR] [--gpu FILE]
      Reads RUN_DIR/bench.json (and RUN_DIR/gpu_bench.json or --gpu FILE: scripts/gpu-check's GPU results)
      and RUN_DIR/metadata.json, and writes RUN_DIR/report.md with PNG plots beside it
      (and copies the PNGs to --figures DIR when given): the CPU GEMM engines against Eigen and oneDNN, the commit
      against raw SHA-256, verifier time against k, proof size against R, detection probability against k in
      both lease modes (from the soundness formula, no benchmark), and the GPU overhead table when the run has
      GPU results. A part whose benchmarks are missing from the run is reported as missing, not guessed.

Runs on Debian's /usr/bin/python3 with python3-matplotlib (Agg backend: no display needed).
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys

# Key ISA features for the CPU tiers (int8: AVX2 / AVX-512 VNNI; SHA-256: SHA-NI); the full flag list is kept too.
ISA_FLAGS = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni",
             "avx512_bf16", "amx_int8", "amx_tile", "sha_ni", "aes", "vaes", "gfni"]

# Soundness (docs/PROTOCOL.md; vcp::EpochPassProbability): a provider that skipped a fraction s of the positions
# passes an epoch of k uniform samples with probability 1 - (1 - f^k)^G, f = 1 - s, where G is the number of
# independent tries it gets at the challenge: 1 interactively, 2^40 grinding tries assumed for a public beacon.
MODES = {"interactive": 1.0, "beacon": 2.0 ** 40}
MIN_SAMPLES = {"interactive": 40, "beacon": 80}  # vcp::kMinSamplesInteractive, vcp::kMinSamplesBeacon
SKIPS = [0.01, 0.10, 0.50]


def run(cmd):
    """stdout of cmd, or '' when it cannot run: the metadata records what it finds and never fails the run."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def header_define(paths, name):
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                m = re.search(r"#\s*define\s+" + name + r"\s+(\S+)", f.read())
            if m:
                return m.group(1).strip('"')
        except OSError:
            continue
    return None


def include_dirs(build):
    dirs = ["/usr/include", "/usr/local/include", "/usr/include/x86_64-linux-gnu"]
    cache = cmake_cache(build)
    for key in ("EIGEN3_INCLUDE_DIR", "Eigen3_DIR", "VCP_DNNL_INCLUDE_DIR", "OPENSSL_INCLUDE_DIR"):
        if cache.get(key):
            dirs.insert(0, cache[key])
    return dirs


def cmake_cache(build):
    values = {}
    try:
        with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^([A-Za-z0-9_]+):[A-Z]+=(.*)$", line.rstrip("\n"))
                if m:
                    values[m.group(1)] = m.group(2)
    except OSError:
        pass
    return values


def library_versions(build):
    inc = include_dirs(build)
    join = lambda rel: [os.path.join(d, rel) for d in inc]
    eigen = [header_define(join(p), "EIGEN_" + part + "_VERSION")
             for p in ("eigen3/Eigen/src/Core/util/Macros.h",) for part in ("WORLD", "MAJOR", "MINOR")]
    dnnl = [header_define(join("oneapi/dnnl/dnnl_version.h"), "DNNL_VERSION_" + part)
            for part in ("MAJOR", "MINOR", "PATCH")]
    versions = {
        "openssl": header_define(join("openssl/opensslv.h"), "OPENSSL_VERSION_STR"),
        "libsodium": header_define(join("sodium/version.h"), "SODIUM_VERSION_STRING"),
        "onednn": ".".join(dnnl) if all(dnnl) else None,
        "eigen": ".".join(eigen) if all(eigen) else None,
    }
    # Debian's package versions as well, when dpkg is there (they carry the distribution's patch level).
    packages = ["libssl-dev", "libsodium-dev", "libdnnl-dev", "libeigen3-dev", "libbenchmark-dev",
                "librandom123-dev", "python3-matplotlib"]
    dpkg = {}
    for p in packages:
        v = run(["dpkg-query", "-W", "-f=${Version}", p])
        if v:
            dpkg[p] = v
    versions["benchmark"] = dpkg.get("libbenchmark-dev")
    versions["debian_packages"] = dpkg
    return versions


def machine():
    lscpu = {}
    for line in run(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        lscpu[key.strip()] = value.strip()
    flags = lscpu.get("Flags", "").split()
    mem_kib = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            m = re.search(r"MemTotal:\s+(\d+)", f.read())
            mem_kib = int(m.group(1)) if m else None
    except OSError:
        pass
    os_name = None
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            os_name = m.group(1) if m else None
    except OSError:
        pass
    gpus = run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
    return {
        "hostname": socket.gethostname(),
        "cpu_model": lscpu.get("Model name") or platform.processor(),
        "cpu_family": lscpu.get("CPU family"),
        "cpus": int(lscpu["CPU(s)"]) if lscpu.get("CPU(s)", "").isdigit() else os.cpu_count(),
        "threads_per_core": lscpu.get("Thread(s) per core"),
        "cores_per_socket": lscpu.get("Core(s) per socket"),
        "sockets": lscpu.get("Socket(s)"),
        "isa": [f for f in ISA_FLAGS if f in flags],
        "flags": flags,
        "memory_gib": round(mem_kib / 2 ** 20, 1) if mem_kib else None,
        "os": os_name,
        "kernel": platform.release(),
        "load_average": list(os.getloadavg()),
        "gpus": [g.strip() for g in gpus.splitlines() if g.strip()],
    }


def compiler(build):
    cache = cmake_cache(build)
    cxx = cache.get("CMAKE_CXX_COMPILER", "c++")
    info = {
        "cxx": cxx,
        "cxx_version": (run([cxx, "--version"]).splitlines() or [None])[0],
        "build_type": cache.get("CMAKE_BUILD_TYPE"),
        "cxx_flags": " ".join(filter(None, [cache.get("CMAKE_CXX_FLAGS"), cache.get(
            "CMAKE_CXX_FLAGS_" + cache.get("CMAKE_BUILD_TYPE", "").upper())])),
        "cuda": cache.get("VCP_WITH_CUDA"),
    }
    nvcc = cache.get("CMAKE_CUDA_COMPILER")
    if nvcc:
        info["nvcc_version"] = (run([nvcc, "--version"]).splitlines() or [None])[-1]
    return info


def git_info(root):
    commit = run(["git", "-C", root, "rev-parse", "HEAD"])
    status = run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"])
    return {
        "commit": commit or None,
        "describe": run(["git", "-C", root, "describe", "--always", "--dirty"]) or None,
        "dirty": bool(status),
        "modified_files": len(status.splitlines()) if status else 0,
        "subject": run(["git", "-C", root, "log", "-1", "--format=%s"]) or None,
    }


def cmd_metadata(args):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git": git_info(root),
        "machine": machine(),
        "compiler": compiler(args.build),
        "libraries": library_versions(args.build),
        "quick": bool(int(args.quick)),
        "command": args.command,
        "note": args.note or None,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------------------------------------------
# Reading Google Benchmark's JSON.

def load_results(path):
    """(context, {run name: {"time_ms", "real_time_ms", "cpu_time_ms", counters..., "label"}}); with repetitions,
    the median aggregate (or the median of the repetitions when only those were written)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    runs, medians = {}, {}
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            continue
        # Google Benchmark appends how a run was timed or bounded (/real_time, /manual_time, /min_time:0.500,
        # /iterations:1) to its name; the report looks runs up by benchmark and arguments only.
        name = re.sub(r"(/(real_time|manual_time|min_time:[0-9.]+|iterations:[0-9]+))+$", "",
                      b.get("run_name", b["name"]))
        row = {k: v for k, v in b.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        row["real_time_ms"] = b["real_time"] * scale[b.get("time_unit", "ns")]
        row["cpu_time_ms"] = b["cpu_time"] * scale[b.get("time_unit", "ns")]
        # The time the report quotes: the benchmark thread's CPU time (what Google Benchmark's rates use, and what a
        # shared machine disturbs least), or the wall / device time of benchmarks timed that way.
        timed_by_wall = "/real_time" in b["name"] or "/manual_time" in b["name"]
        row["time_ms"] = row["real_time_ms"] if timed_by_wall else row["cpu_time_ms"]
        row["label"] = b.get("label", "")
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = row
        else:
            runs.setdefault(name, []).append(row)
    out = {}
    for name, rows in runs.items():
        if name in medians:
            medians[name]["label"] = rows[0]["label"]
            out[name] = medians[name]
        elif len(rows) == 1:
            out[name] = rows[0]
        else:
            merged = dict(rows[0])
            for key, value in rows[0].items():
                if isinstance(value, (int, float)):
                    merged[key] = statistics.median(r[key] for r in rows if key in r)
            out[name] = merged
    return data.get("context", {}), out


def fmt(value, digits=3):
    if value is None:
        return "-"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:.{decimals}f}"


# ---------------------------------------------------------------------------------------------------------------
# The report's parts. Each returns markdown and saves its figure (when it has data) into the run directory.

GEMM_SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096),
               (64, 64, 8192), (32, 32, 8192)]
GEMM_INT8 = [("BM_GemmInt8Best", "vcp int8 (best tier)"), ("BM_GemmInt8Portable", "vcp int8 (portable)"),
             ("BM_EigenInt32", "Eigen int32"), ("BM_OnednnInt8", "oneDNN s8 x s8 -> s32")]
GEMM_FP32 = [("BM_GemmFp32OrderedBest", "vcp fp32-ordered"), ("BM_EigenFp32", "Eigen float"),
             ("BM_OnednnFp32", "oneDNN f32")]


class Report:
    def __init__(self, run_dir, meta, context, results, plt, capped=None):
        self.dir, self.meta, self.context, self.r, self.plt = run_dir, meta, context, results, plt
        self.capped = capped or {}  # tier -> the results of scripts/bench's pass capped at it
        self.figures = []
        m = meta.get("machine", {})
        self.caption = (f"{m.get('cpu_model', '?')}, {m.get('cpus', '?')} CPUs; "
                        f"{meta.get('date', '?')[:10]}; commit {(meta.get('git', {}).get('describe') or '?')}"
                        + ("; quick run" if meta.get("quick") else "")
                        + (f"; {meta['note']}" if meta.get("note") else ""))

    def get(self, name):
        return self.r.get(name)

    def save(self, fig, name, title):
        fig.suptitle(title, fontsize=11)
        fig.text(0.01, 0.005, self.caption, fontsize=7, color="0.35")
        fig.tight_layout(rect=(0, 0.03, 1, 0.97))
        fig.savefig(os.path.join(self.dir, name), dpi=110)
        self.plt.close(fig)
        self.figures.append(name)
        return f"![{title}]({name})\n"

    def gemm(self):
        rows = []
        for engines, kind in ((GEMM_INT8, "int8"), (GEMM_FP32, "fp32")):
            for bench, label in engines:
                rates = [self.gemm_rate(bench, s) for s in GEMM_SHAPES]
                if any(r is not None for r in rates):
                    rows.append((kind, bench, label, rates))
        md = ["## CPU GEMM engines against Eigen and oneDNN (one thread)\n",
              "GMAC/s (10^9 multiply-adds per second); the same inputs and shapes for every engine. fp32-ordered keeps "
              "each output's k loop in spec order; Eigen's and oneDNN's float GEMMs reassociate (speed references, "
              "not valid fp32-ordered engines).\n"]
        if not rows:
            return "\n".join(md + ["*No GEMM benchmarks in this run.*\n"])
        md.append("| engine | " + " | ".join("x".join(map(str, s)) for s in GEMM_SHAPES) + " | implementation |")
        md.append("|---|" + "---|" * (len(GEMM_SHAPES) + 1))
        for kind, bench, label, rates in rows:
            runs = [self.get(self.gemm_name(bench, s)) for s in GEMM_SHAPES]
            impl = ", ".join(sorted({r["label"] for r in runs if r and r["label"]})) or "-"
            md.append(f"| {label} | " + " | ".join(fmt(r) for r in rates) + f" | {impl} |")
        md.append("")
        md.extend(self.gemm_ratios())
        fig, axes = self.plt.subplots(1, 2, figsize=(12, 4.6))
        for ax, kind, title in ((axes[0], "int8", "int8 GEMM"), (axes[1], "fp32", "fp32 GEMM")):
            series = [row for row in rows if row[0] == kind]
            width = 0.8 / max(1, len(series))
            for i, (_, _, label, rates) in enumerate(series):
                xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(GEMM_SHAPES))]
                ax.bar(xs, [r or 0 for r in rates], width, label=label)
            ax.set_xticks(range(len(GEMM_SHAPES)))
            ax.set_xticklabels(["%dx%dx%d" % s for s in GEMM_SHAPES], fontsize=8, rotation=25, ha="right")
            ax.set_yscale("log")
            top = max((r or 0) for row in series for r in row[3]) if series else 1
            ax.set_ylim(top=top * 4)  # room for the legend above the bars
            # Plain numbers at 1-2-5 steps: a log axis spanning less than two decades shows only one label otherwise.
            ax.set_yticks([t for e in range(-1, 5) for t in (10 ** e, 2 * 10 ** e, 5 * 10 ** e)
                           if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]])
            ax.yaxis.set_major_formatter(self.plt.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(self.plt.NullFormatter())
            ax.set_ylabel("GMAC/s (log scale)")
            ax.set_xlabel("m x n x k")
            ax.set_title(title)
            ax.grid(axis="y", which="both", alpha=0.3)
            ax.legend(fontsize=8)
        md.append(self.save(fig, "gemm_engines.png", "CPU GEMM, one thread: vcp against Eigen and oneDNN"))
        return "\n".join(md)

    @staticmethod
    def gemm_name(bench, shape):
        return f"{bench}/m:{shape[0]}/n:{shape[1]}/k:{shape[2]}"

    def gemm_rate(self, bench, shape):
        row = self.get(self.gemm_name(bench, shape))
        return row["GMAC"] if row and "GMAC" in row else None

    def gemm_ratios(self):
        pairs = [("BM_GemmInt8Best", "BM_EigenInt32", "vcp int8 / Eigen int32"),
                 ("BM_GemmInt8Best", "BM_OnednnInt8", "vcp int8 / oneDNN int8"),
                 ("BM_GemmFp32OrderedBest", "BM_EigenFp32", "vcp fp32-ordered / Eigen float"),
                 ("BM_GemmFp32OrderedBest", "BM_OnednnFp32", "vcp fp32-ordered / oneDNN f32")]
        md = ["| ratio | " + " | ".join("x".join(map(str, s)) for s in GEMM_SHAPES) + " |",
              "|---|" + "---|" * len(GEMM_SHAPES)]
        found = False
        for a, b, label in pairs:
            ratios = []
            for s in GEMM_SHAPES:
                ra, rb = self.gemm_rate(a, s), self.gemm_rate(b, s)
                ratios.append(ra / rb if ra and rb else None)
            if any(ratios):
                found = True
                md.append(f"| {label} | " + " | ".join(fmt(x, 2) + "x" if x else "-" for x in ratios) + " |")
        return md + [""] if found else []

    CAPPED = {
        "avx2": ("AVX2", "AVX2", "what an AVX2-only CPU (Haswell to Skylake, Zen 1-3) would run. oneDNN's int8 "
                 "kernels without VNNI sum pairs of u8 x s8 products in saturating int16 (VPMADDUBSW), so their "
                 "s8 x s8 -> s32 result is not the exact product (column `exact`: 0 means it differed from vcp's on "
                 "the same inputs); the ceilings below bound what each instruction mix can reach."),
        "avxvnni": ("AVX-VNNI", "AVX2_VNNI", "what a CPU with AVX-VNNI but no AVX-512 (Alder Lake and later client "
                    "cores, Sierra Forest) would run; both int8 GEMMs use VPDPBUSD on 256-bit registers and are "
                    "exact."),
    }

    def capped_tier(self, tier):
        """vcp's tier against oneDNN capped at the same ISA, from scripts/bench's pass bench_<tier>.json."""
        title, isa, what = self.CAPPED[tier]
        md = [f"## {title} tiers against oneDNN capped at {title} (one thread)\n",
              f"Another run of the GEMM benchmarks in a process started with `VCP_CPU_TIER={tier}` and "
              f"`ONEDNN_MAX_CPU_ISA={isa}`: {what}\n"]
        results = self.capped.get(tier)
        if not results:
            return "\n".join(md + [f"*No {title} pass in this run (it runs where the CPU has a tier above it).*\n"])
        md += [f"| m x n x k | vcp int8 ({tier}) | oneDNN s8 ({isa}) | exact | ratio | vcp fp32-ordered ({tier}) | "
               f"oneDNN f32 ({isa}) | ratio |", "|---|---|---|---|---|---|---|---|"]
        for shape in GEMM_SHAPES:
            get = lambda bench: results.get(self.gemm_name(bench, shape)) or {}
            vi, oi = get("BM_GemmInt8Best").get("GMAC"), get("BM_OnednnInt8").get("GMAC")
            vf, of = get("BM_GemmFp32OrderedBest").get("GMAC"), get("BM_OnednnFp32").get("GMAC")
            if not any((vi, oi, vf, of)):
                continue
            exact = get("BM_OnednnInt8").get("exact")
            md.append(f"| {'x'.join(map(str, shape))} | {fmt(vi)} | {fmt(oi)} | "
                      f"{'-' if exact is None else int(exact)} | {fmt(vi / oi, 2) + 'x' if vi and oi else '-'} | "
                      f"{fmt(vf)} | {fmt(of)} | {fmt(vf / of, 2) + 'x' if vf and of else '-'} |")
        md.append("")
        if tier == "avx2":
            md.append(self.ceilings())
        return "\n".join(md)

    def ceilings(self):
        """BM_Int8Ceiling: each int8 instruction mix from registers alone (bench/ceiling_bench.cpp)."""
        rows = [self.get(f"BM_Int8Ceiling/mix:{i}") for i in range(4)]
        rows = [row for row in rows if row and row.get("items_per_second")]
        if not rows:
            return "*No instruction ceilings (`BM_Int8Ceiling`) in this run.*\n"
        md = ["| int8 instruction mix, registers only (`BM_Int8Ceiling`) | GMAC/s |", "|---|---|"]
        md += [f"| {row.get('label', '?')} | {fmt(row['items_per_second'] / 1e9)} |" for row in rows]
        return "\n".join(md + [""])

    def inputs(self):
        md = ["## Input generation (Philox4x32-10) per tier, and a verifier tile's inputs (one thread)\n"]
        tiers = {}
        for name, row in self.r.items():
            m = re.match(r"^BM_PhiloxBlocks/tier:(\d+)$", name)
            if m and row.get("items_per_second"):
                tiers[int(m.group(1))] = (row["label"], row["items_per_second"] / 1e6)
        tiles = [(name, row) for name, row in sorted(self.r.items()) if name.startswith("BM_TileInputs/")]
        if not tiers and not tiles:
            return "\n".join(md + ["*No input-generation benchmarks in this run.*\n"])
        if tiers:
            md += ["| tier | M Philox blocks/s |", "|---|---|"]
            md += [f"| {label or tier} | {fmt(rate)} |" for tier, (label, rate) in sorted(tiers.items())]
            md.append("")
        if tiles:
            md += ["| tile inputs (`BM_TileInputs`: workload/K/T) | time (us) | M blocks/s |", "|---|---|---|"]
            md += [f"| {name[len('BM_TileInputs/'):]} | {fmt(row['time_ms'] * 1e3)} | "
                   f"{fmt((row.get('items_per_second') or 0) / 1e6)} |" for name, row in tiles]
            md.append("")
        return "\n".join(md)

    def commit(self):
        md = ["## The commit against raw SHA-256 and the GEMM it proves (n = 2048, T = 32, one thread)\n"]
        gemm, commit = self.get("BM_GemmInt8_2048"), self.get("BM_CommitInt8")
        hashing = {w: self.get(f"BM_HashLeaves/workload:{w}/threads:1") for w in (1, 2)}
        raw = {(w, p): self.get(f"BM_RawSha256/workload:{w}/per_leaf:{p}") for w, p in ((1, 1), (1, 0), (2, 1))}
        if not (gemm or commit or any(hashing.values()) or any(raw.values())):
            return "\n".join(md + ["*No commit benchmarks in this run.*\n"])
        md += ["| benchmark | time (ms) | GB/s of hashed bytes | vs |", "|---|---|---|---|"]
        gbs = lambda row: row["bytes_per_second"] / 1e9 if row and "bytes_per_second" in row else None
        if gemm:
            md.append(f"| int8 GEMM, C = A B (`BM_GemmInt8_2048`) | {fmt(gemm['time_ms'])} | | |")
        if commit:
            share = f"**{100 * commit['time_ms'] / gemm['time_ms']:.1f}% of the GEMM** (target <= 20%)" if gemm else ""
            md.append(f"| commit: leaf hashing + tree (`BM_CommitInt8`) | {fmt(commit['time_ms'])} | | {share} |")
        names = {1: "int8", 2: "fp32-ordered"}
        for w in (1, 2):
            h, r = hashing[w], raw.get((w, 1))
            if h:
                vs = f"**{100 * gbs(h) / gbs(r):.1f}% of raw per-leaf SHA-256** (target >= 90%)" if r and gbs(r) else ""
                md.append(f"| {names[w]} leaf hashing (`BM_HashLeaves`) | {fmt(h['time_ms'])} | {fmt(gbs(h))} | {vs} |")
            if r:
                md.append(f"| raw SHA-256, one digest per {names[w]} leaf-sized chunk | {fmt(r['time_ms'])} "
                          f"| {fmt(gbs(r))} | |")
        if raw.get((1, 0)):
            r = raw[(1, 0)]
            md.append(f"| raw SHA-256, the int8 bytes as one digest | {fmt(r['time_ms'])} | {fmt(gbs(r))} | |")
        md.append("")
        fig, axes = self.plt.subplots(1, 2, figsize=(12, 4.2))
        bars = [(n, row["time_ms"]) for n, row in (("int8 GEMM", gemm), ("commit", commit),
                                                         ("leaf hashing", hashing[1]),
                                                         ("raw SHA-256\nper leaf", raw.get((1, 1)))) if row]
        axes[0].bar([b[0] for b in bars], [b[1] for b in bars], color=["C0", "C1", "C2", "C3"][:len(bars)])
        axes[0].set_ylabel("ms per 2048 x 2048 round")
        axes[0].set_title("int8: the commit against the GEMM")
        for i, (_, v) in enumerate(bars):
            axes[0].text(i, v, fmt(v), ha="center", va="bottom", fontsize=8)
        groups = [(f"{names[w]}\nleaf hashing", gbs(hashing[w])) for w in (1, 2) if hashing[w]]
        groups += [(f"{names[w]} raw\nper leaf", gbs(raw.get((w, 1)))) for w in (1, 2) if raw.get((w, 1))]
        if raw.get((1, 0)):
            groups.append(("int8 raw\none digest", gbs(raw[(1, 0)])))
        axes[1].bar([g[0] for g in groups], [g[1] or 0 for g in groups], color="C2")
        axes[1].set_ylabel("GB/s of hashed bytes")
        axes[1].set_title("leaf hashing against raw OpenSSL SHA-256")
        axes[1].tick_params(axis="x", labelsize=8)
        for ax in axes:
            ax.grid(axis="y", alpha=0.3)
        md.append(self.save(fig, "commit_vs_sha256.png", "Commitment cost, spec v2, one thread"))
        return "\n".join(md)

    def verifier(self):
        md = ["## Verifier time and proof size against k (`BM_VerifyEpoch`: int8, T = 32, R = 16; wall time)\n"]
        points, scaling = {}, []
        for name, row in self.r.items():
            m = re.match(r"^BM_VerifyEpoch/n:(\d+)/k:(\d+)(?:/threads:(\d+))?", name)
            if m:
                n, k, threads = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
                scaling.append((n, k, threads, row["time_ms"], row.get("proof_KiB")))
                if threads == 1:
                    points.setdefault(n, []).append((k, row["time_ms"], row.get("proof_KiB")))
        if not points:
            return "\n".join(md + ["*No BM_VerifyEpoch results in this run.*\n"])
        md += ["| n | k | threads | verify one epoch (ms) | proof (KiB) |", "|---|---|---|---|---|"]
        md += [f"| {n} | {k} | {t} | {fmt(ms)} | {fmt(kib)} |" for n, k, t, ms, kib in sorted(scaling)]
        fig, axes = self.plt.subplots(1, 2, figsize=(12, 4.2))
        for n in sorted(points):
            pts = sorted(points[n])
            axes[0].plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"n = {n}, one thread")
            axes[1].plot([p[0] for p in pts], [p[2] or 0 for p in pts], "o-", label=f"n = {n}")
        md.append("\nTargets at n = 8192, k = 64: verification <= 15 ms on one core (issue 11), proof < 32 KiB.\n")
        axes[0].plot([64], [15], "k*", ms=10, ls="none", label="target at n = 8192, k = 64: 15 ms")
        axes[1].plot([64], [32], "k*", ms=10, ls="none", label="target at n = 8192, k = 64: 32 KiB")
        for ax, ylabel in ((axes[0], "ms per epoch"), (axes[1], "proof KiB")):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("k (samples per epoch)")
            ax.set_ylabel(ylabel)
            ax.grid(which="both", alpha=0.3)
            ax.legend(fontsize=8)
        axes[0].set_title("verifier time per epoch")
        axes[1].set_title("proof size per epoch")
        md.append(self.save(fig, "verifier_vs_k.png", "Verifier: one epoch against k"))
        return "\n".join(md)

    def proof_size(self):
        md = ["## Proof size against R (`BM_ProofSizeByRounds`: n = 8192, k = 64, 20 challenges)\n"]
        pts = []
        for name, row in self.r.items():
            m = re.match(r"^BM_ProofSizeByRounds/R:(\d+)", name)
            if m:
                pts.append((int(m.group(1)), row.get("mean_KiB"), row.get("max_KiB")))
        if not pts:
            return "\n".join(md + ["*No BM_ProofSizeByRounds results in this run.*\n"])
        pts.sort()
        md += ["| R | mean KiB | max KiB |", "|---|---|---|"]
        md += [f"| {r} | {fmt(mean)} | {fmt(mx)} |" for r, mean, mx in pts]
        md.append("")
        fig, ax = self.plt.subplots(figsize=(7, 4.2))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label="mean")
        ax.plot([p[0] for p in pts], [p[2] for p in pts], "s--", label="max")
        ax.axhline(32, color="0.5", ls=":", label="32 KiB target")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("R (rounds per epoch)")
        ax.set_ylabel("proof KiB")
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize=8)
        md.append(self.save(fig, "proof_size_vs_R.png", "Proof size against R (n = 8192, k = 64)"))
        return "\n".join(md)

    def detection(self):
        md = ["## Detection probability against k (computed, not measured)\n",
              "A provider that skipped a fraction s of the positions passes an epoch of k uniform samples with "
              "probability 1 - (1 - f^k)^G, f = 1 - s (`vcp::EpochPassProbability`); detection is one minus that. "
              "G = 1 for an interactive challenge and G = 2^40 for a public beacon, whose challenge a provider can "
              "grind. Minimum k: 40 interactive, 80 beacon.\n",
              "| mode | skip | detection at k = 40 | at k = 80 | at k = 256 | at k = 1024 | k for 99% "
              "| k for 1 - 2^-40 |",
              "|---|---|---|---|---|---|---|---|"]
        ks = sorted({int(round(2 ** (e / 8))) for e in range(0, 8 * 14 + 1)})
        fig, axes = self.plt.subplots(1, 2, figsize=(12, 4.4))
        for mode, g in MODES.items():
            for i, s in enumerate(SKIPS):
                f = 1 - s
                det = [detection_probability(f, k, g) for k in ks]
                esc = [pass_probability(f, k, g) for k in ks]
                style = "-" if mode == "interactive" else "--"
                label = f"{mode}, skip {s:.0%}"
                axes[0].plot(ks, det, style, color=f"C{i}", label=label)
                axes[1].plot(ks, [max(e, 1e-30) for e in esc], style, color=f"C{i}", label=label)
                cells = [fmt_detection(f, k, g) for k in (40, 80, 256, 1024)]
                needed = [samples_needed(f, bits, math.log2(g)) for bits in (-math.log2(0.01), 40)]
                md.append(f"| {mode} | {s:.0%} | " + " | ".join(cells + [str(k) for k in needed]) + " |")
        for mode, k in MIN_SAMPLES.items():
            for ax in axes:
                ax.axvline(k, color="0.6", ls=":", lw=1)
            axes[0].text(k * 1.05, 0.45, f"min k, {mode}", rotation=90, va="center", fontsize=7, color="0.4")
        axes[0].set_ylabel("detection probability per epoch")
        axes[1].set_ylabel("pass probability of the cheat (log scale)")
        axes[1].set_yscale("log")
        axes[1].set_ylim(1e-30, 2)
        axes[1].axhline(2 ** -40, color="0.5", ls=":", lw=1)
        axes[1].text(1.1, 2 ** -40, "2^-40", fontsize=7, va="bottom", color="0.4")
        for ax in axes:
            ax.set_xscale("log", base=2)
            ax.set_xlabel("k (samples per epoch)")
            ax.grid(which="both", alpha=0.3)
        axes[0].legend(fontsize=7, loc="lower right")
        md.append("\nk for a target: the smallest k with G f^k <= 1 - target (`vcp::SamplesNeeded`).\n")
        md.append(self.save(fig, "detection_vs_k.png",
                            "Detection per epoch, interactive (G = 1, solid) and beacon (G = 2^40, dashed)"))
        return "\n".join(md)

    def gpu(self):
        names = ["BM_GpuInt8PlainGemm", "BM_GpuInt8GemmCommit", "BM_GpuInt8GenerateGemmCommit", "BM_GpuCublasSgemm",
                 "BM_GpuFp32OrderedGemm", "BM_GpuHashLeaves"]
        ns = sorted({int(m.group(1)) for name in self.r for m in [re.match(r"^BM_Gpu\w+/n:(\d+)", name)] if m})
        md = ["## GPU: proof overhead over a plain GEMM\n"]
        if not ns:
            gpus = self.meta.get("machine", {}).get("gpus")
            seen = "GPU seen: " + "; ".join(gpus) if gpus else "no GPU on this machine"
            return "\n".join(md + [f"*No GPU results in this run* ({seen}; on a GPU machine build with CUDA and run "
                                   "`scripts/bench` or `scripts/gpu-check`).\n"])
        t = lambda name, n: (self.get(f"{name}/n:{n}") or {}).get("time_ms")
        md += ["| n | cuBLASLt int8 GEMM (ms) | GEMM + commit | generate + GEMM + commit | **proof overhead** | "
               "cuBLAS SGEMM | fp32-ordered | fp32-ordered speed / SGEMM | leaf hashing GB/s |",
               "|---|---|---|---|---|---|---|---|---|"]
        for n in ns:
            plain, commit, full, sgemm, ordered = (t(x, n) for x in names[:5])
            hashing = self.get(f"BM_GpuHashLeaves/n:{n}")
            hash_gbs = hashing["bytes_per_second"] / 1e9 if hashing and "bytes_per_second" in hashing else None
            overhead = f"**{100 * (commit / plain - 1):.1f}%**" if plain and commit else "-"
            ratio = f"{100 * sgemm / ordered:.0f}%" if sgemm and ordered else "-"
            md.append(f"| {n} | {fmt(plain)} | {fmt(commit)} | {fmt(full)} | {overhead} | {fmt(sgemm)} "
                      f"| {fmt(ordered)} | {ratio} | {fmt(hash_gbs)} |")
        md.append("\nproof overhead = (GEMM + commit) / plain GEMM - 1 (targets on an H100: <= 25% at n = 8192, "
                  "<= 10% at 16384; fp32-ordered >= 80% of SGEMM).\n")
        return "\n".join(md)

    def header(self):
        m, g, c, lib = (self.meta.get(k, {}) for k in ("machine", "git", "compiler", "libraries"))
        load = m.get("load_average") or self.context.get("load_avg")
        lines = [
            "# vcp benchmark report\n",
            f"- Date: {self.meta.get('date', '?')} ({'quick run' if self.meta.get('quick') else 'full run'})",
            f"- Commit: `{g.get('commit') or '?'}`"
            + (f" (dirty: {g.get('modified_files')} modified files)" if g.get("dirty") else "")
            + f" {g.get('subject') or ''}",
            f"- Machine: {m.get('cpu_model', '?')} (family {m.get('cpu_family', '?')}), {m.get('cpus', '?')} CPUs, "
            f"{m.get('memory_gib', '?')} GiB, {m.get('os', '?')}, kernel {m.get('kernel', '?')}; "
            f"host {m.get('hostname', '?')}",
            f"- ISA: {', '.join(m.get('isa', [])) or '?'}; GEMM tiers chosen: "
            f"int8 `{self.context.get('gemm_int8_tier', '?')}`, "
            f"fp32-ordered `{self.context.get('gemm_fp32_tier', '?')}`",
            f"- GPUs: {'; '.join(m.get('gpus') or []) or 'none'}",
            f"- Compiler: {c.get('cxx_version', '?')}, {c.get('build_type', '?')} ({c.get('cxx_flags', '')})",
            f"- Libraries: OpenSSL {lib.get('openssl', '?')}, libsodium {lib.get('libsodium', '?')}, oneDNN "
            f"{lib.get('onednn') or 'not found'}"
            + (f" (run time {self.context['onednn_version']})"
               if self.context.get("onednn_version") not in (None, lib.get("onednn")) else "")
            + f", Eigen {lib.get('eigen', '?')}, "
            f"Google Benchmark {lib.get('benchmark') or '?'}",
            "- Times are the benchmark thread's CPU time (wall or device time for benchmarks timed so); rates are "
            "Google Benchmark's, from the same times; with repetitions, medians.",
            f"- Load average when the run started: {', '.join(f'{x:.2f}' for x in load) if load else '?'} "
            "(figures from a shared or loaded machine carry its noise; compare runs on the same machine only)",
            f"- Command: `{self.meta.get('command', '?')}`",
            f"- Note: {self.meta.get('note')}" if self.meta.get("note") else "",
            "",
        ]
        return "\n".join(lines)


def pass_probability(f, k, g):
    """1 - (1 - f^k)^G without cancellation (vcp::EpochPassProbability)."""
    if f <= 0:
        return 0.0
    if f >= 1:
        return 1.0
    single = math.exp(k * math.log(f))
    if single >= 1:
        return 1.0
    return -math.expm1(g * math.log1p(-single))


def samples_needed(f, security_bits, grinding_bits):
    """The smallest k with G f^k <= 2^-security_bits (vcp::SamplesNeeded)."""
    return math.ceil((security_bits + grinding_bits) / -math.log2(f) - 1e-9)


def detection_probability(f, k, g):
    """(1 - f^k)^G: the chance that at least one of the G tries' samples hits a skipped position, every time."""
    single = math.exp(k * math.log(f)) if 0 < f < 1 else float(f >= 1)
    return 0.0 if single >= 1 else math.exp(g * math.log1p(-single))


def fmt_detection(f, k, g):
    """Detection as a readable number: 1 - (escape) near one, a power of ten when it underflows a double."""
    det = detection_probability(f, k, g)
    escape = pass_probability(f, k, g)
    if det >= 0.9999:
        return f"1 - {escape:.1e}" if escape > 0 else "1 - <1e-300"
    if det >= 1e-4:
        return f"{det:.4f}"
    if det > 0:
        return f"{det:.1e}"
    single = math.exp(k * math.log(f))
    return f"10^-({-g * math.log1p(-single) / math.log(10):.1e})"  # log10 of (1 - f^k)^G


def cmd_report(args):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"bench_report: matplotlib is missing for {sys.executable} ({e}); on Debian: apt-get install "
              "python3-matplotlib, and run this with /usr/bin/python3", file=sys.stderr)
        return 2

    run_dir = args.run_dir
    try:
        with open(os.path.join(run_dir, "metadata.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except OSError:
        meta = {}
    context, results = load_results(os.path.join(run_dir, "bench.json"))
    # GPU results from scripts/gpu-check (its gpu_bench.json), copied into the run or named with --gpu.
    for extra in [os.path.join(run_dir, "gpu_bench.json")] + (args.gpu or []):
        if os.path.exists(extra):
            extra_context, extra_results = load_results(extra)
            results.update(extra_results)
            for key, value in extra_context.items():
                context.setdefault(key, value)
    if not results:
        print(f"bench_report: no benchmark results in {run_dir}/bench.json", file=sys.stderr)
        return 1
    # The capped passes (scripts/bench runs them where the CPU has a tier above), kept apart: the same benchmark names.
    capped = {}
    for tier in Report.CAPPED:
        path = os.path.join(run_dir, f"bench_{tier}.json")
        if os.path.exists(path):
            capped[tier] = load_results(path)[1]
    rep = Report(run_dir, meta, context, results, plt, capped)
    parts = [rep.header(), rep.gemm(), rep.capped_tier("avx2"), rep.capped_tier("avxvnni"), rep.inputs(), rep.commit(), rep.verifier(), rep.proof_size(),
             rep.detection(), rep.gpu()]
    with open(os.path.join(run_dir, "report.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    if args.figures:
        os.makedirs(args.figures, exist_ok=True)
        for name in rep.figures:
            shutil.copyfile(os.path.join(run_dir, name), os.path.join(args.figures, name))
    print(f"bench_report: {os.path.join(run_dir, 'report.md')} and {len(rep.figures)} plots"
          + (f" (copied to {args.figures})" if args.figures else ""))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    meta = sub.add_parser("metadata", help="write the run's context as JSON")
    meta.add_argument("--build", required=True, help="the CMake build directory vcp_bench came from")
    meta.add_argument("--out", required=True)
    meta.add_argument("--quick", default="0")
    meta.add_argument("--command", default="")
    meta.add_argument("--note", default="", help="free text shown in the report and under every plot")
    rep = sub.add_parser("report", help="write report.md and the plots from a run directory")
    rep.add_argument("run_dir")
    rep.add_argument("--figures", help="also copy the PNGs into this directory (e.g. docs/figures)")
    rep.add_argument("--gpu", action="append", help="another Google Benchmark JSON with GPU results "
                     "(scripts/gpu-check's gpu_bench.json); RUN_DIR/gpu_bench.json is read when present")
    args = parser.parse_args()
    if args.action == "metadata":
        cmd_metadata(args)
        return 0
    return cmd_report(args)


if __name__ == "__main__":
    sys.exit(main())

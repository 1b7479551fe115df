// python/src/vcp_module.cpp: the `vcp` Python module, thin pybind11 wrappers over the C++ library (libvcp.a, linked
// statically): workloads (run / open / check, generated inputs and tile values as numpy arrays), keys, the two lease
// sessions with messages as bytes, and message JSON. python/README.md documents the API.
//
// Ownership: Python objects own their C++ values; a session object holds its store's lock until close() or until
// it is collected. Thread safety: as the library's: one thread per session; long calls (run, check, prove, respond,
// receive_response) release the GIL. Errors: every failed Status is raised as vcp.Error(code, value, message), code
// being StatusCodeName ("invalid argument", "rejected", ...) and value the StatusCode's integer; nothing else is
// caught or translated.
#include <pybind11/eval.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "protocol/report_json.h"  // lib/ (internal): the same report JSON `vcp report` prints
#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/epoch.h"
#include "vcp/keys.h"
#include "vcp/lease_session.h"
#include "vcp/merkle.h"
#include "vcp/message_json.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/version.h"
#include "vcp/workload.h"

namespace py = pybind11;

namespace {

// Carries a failed Status out of a binding; the translator registered in the module turns it into vcp.Error.
struct StatusError {
  vcp::Status status;
};

// vcp.Error, defined in Python at import; one reference is kept for the process's life (a py::object here would
// be released by a static destructor after the interpreter is gone).
py::handle g_error_type;

void ThrowIfError(const vcp::Status& status) {
  if (!status.ok()) throw StatusError{status};
}
template <typename T>
T Take(vcp::Result<T> result) {
  if (!result.ok()) throw StatusError{result.status()};
  return std::move(result).value();
}
[[noreturn]] void ThrowInvalid(std::string message) { throw StatusError{vcp::Status::InvalidArgument(std::move(message))}; }

py::bytes Bytes(std::span<const uint8_t> b) { return py::bytes(reinterpret_cast<const char*>(b.data()), b.size()); }
std::span<const uint8_t> View(const py::bytes& b, std::string_view& storage) {
  storage = std::string_view(b);
  return {reinterpret_cast<const uint8_t*>(storage.data()), storage.size()};
}
// Copies a bytes value of exactly N bytes; `what` names it in the error.
template <size_t N>
std::array<uint8_t, N> Fixed(const py::bytes& b, std::string_view what) {
  std::string_view s(b);
  if (s.size() != N) {
    ThrowInvalid(std::string(what) + " must be " + std::to_string(N) + " bytes, got " + std::to_string(s.size()));
  }
  std::array<uint8_t, N> out{};
  std::memcpy(out.data(), s.data(), N);
  return out;
}
// A seed given as 32 bytes or 64 hex digits.
vcp::Seed SeedFrom(const py::object& seed) {
  if (py::isinstance<py::str>(seed)) return Take(vcp::FixedFromHex<32>(seed.cast<std::string>(), "seed"));
  if (py::isinstance<py::bytes>(seed)) return Fixed<32>(seed.cast<py::bytes>(), "seed");
  ThrowInvalid("seed must be 32 bytes or 64 hex digits");
}

uint64_t NowUs() {
  return uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count());
}

vcp::RunOptions RunOptionsOf(const std::string& backend, int threads, int device) {
  vcp::RunOptions options;
  options.backend = Take(vcp::ParseBackendChoice(backend));
  options.threads = threads;
  options.device = device;
  return options;
}

bool IsInt8(const vcp::WorkloadParams& p) { return p.kind == vcp::WorkloadKind::kInt8; }

// A validated workload.
struct Workload {
  vcp::WorkloadParams params;

  static Workload Make(const std::string& kind, uint32_t m, uint32_t n, uint32_t k, uint32_t tile,
                       const py::object& seed) {
    Workload w;
    w.params.kind = Take(vcp::ParseWorkloadKind(kind));
    w.params.m = m;
    w.params.n = n;
    w.params.k = k;
    w.params.tile = tile;
    w.params.seed = SeedFrom(seed);
    ThrowIfError(vcp::ValidateWorkload(w.params));
    return w;
  }
  vcp::Tile TileChecked(uint64_t index) const {
    const uint64_t leaves = vcp::TileGridOf(params).leaf_count();
    if (index >= leaves) {
      ThrowInvalid("tile index " + std::to_string(index) + " is out of range: the workload has " +
                   std::to_string(leaves) + " tiles (0 to " + std::to_string(leaves - 1) + ")");
    }
    return vcp::TileAt(params, index);
  }
  // A (M, K) or B (K, N), int8 or float32.
  py::array Generate(vcp::Matrix which, int threads) const {
    const bool a = which == vcp::Matrix::kA;
    const py::ssize_t rows = a ? params.m : params.k, cols = a ? params.k : params.n;
    py::array out = IsInt8(params) ? py::array(py::dtype::of<int8_t>(), {rows, cols})
                                   : py::array(py::dtype::of<float>(), {rows, cols});
    std::span<uint8_t> bytes(static_cast<uint8_t*>(out.mutable_data()), size_t(out.nbytes()));
    vcp::Status status;
    {
      py::gil_scoped_release release;
      status = vcp::GenerateInput(params, which, bytes, threads);
    }
    ThrowIfError(status);
    return out;
  }
  // C (M, N), int32 or float32, computed on the CPU engine from the generated inputs.
  py::array Output(int threads) const {
    const auto& info = *vcp::FindWorkload(params.kind);
    std::vector<uint8_t> a(size_t(params.m) * params.k * info.input_bytes), b(size_t(params.k) * params.n * info.input_bytes);
    py::array out = IsInt8(params) ? py::array(py::dtype::of<int32_t>(), {params.m, params.n})
                                   : py::array(py::dtype::of<float>(), {params.m, params.n});
    std::span<uint32_t> c(static_cast<uint32_t*>(out.mutable_data()), size_t(params.m) * params.n);
    vcp::Status status;
    {
      py::gil_scoped_release release;
      status = vcp::GenerateInput(params, vcp::Matrix::kA, a, threads);
      if (status.ok()) status = vcp::GenerateInput(params, vcp::Matrix::kB, b, threads);
      if (status.ok()) status = vcp::ComputeOutput(params, a, b, c, threads);
    }
    ThrowIfError(status);
    return out;
  }
  // One tile's values (rows, cols), recomputed from the seed alone: int32 or float32.
  py::array TileValues(uint64_t index) const {
    const vcp::Tile tile = TileChecked(index);
    std::vector<uint32_t> values = Take(vcp::ComputeTileFromSeed(params, index));
    py::array out = IsInt8(params) ? py::array(py::dtype::of<int32_t>(), {tile.rows, tile.cols})
                                   : py::array(py::dtype::of<float>(), {tile.rows, tile.cols});
    std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(uint32_t));
    return out;
  }
  // The leaf hash of tile `index` holding `values` (rows, cols) of 4-byte elements (int32 / float32 / uint32).
  py::bytes LeafHash(uint64_t index, const py::array& values) const {
    const vcp::Tile tile = TileChecked(index);
    if (values.itemsize() != 4 || values.ndim() != 2 || values.shape(0) != tile.rows || values.shape(1) != tile.cols) {
      ThrowInvalid("tile " + std::to_string(index) + " values must be a (" + std::to_string(tile.rows) + ", " +
                   std::to_string(tile.cols) + ") array of 4-byte elements (int32 or float32)");
    }
    py::array contiguous = py::array::ensure(values, py::array::c_style);
    std::vector<uint32_t> elements(size_t(tile.rows) * tile.cols);
    std::memcpy(elements.data(), contiguous.data(), elements.size() * sizeof(uint32_t));
    return Bytes(vcp::LeafHashOfTile(params, tile, elements));
  }
};

py::dict TileDict(const vcp::Tile& t) {
  py::dict d;
  d["index"] = t.index;
  d["tile_row"] = t.tile_row;
  d["tile_col"] = t.tile_col;
  d["row0"] = t.row0;
  d["col0"] = t.col0;
  d["rows"] = t.rows;
  d["cols"] = t.cols;
  return d;
}

// (L, 32) uint8 from leaf hashes.
py::array HashArray(const std::vector<vcp::Hash32>& hashes) {
  py::array_t<uint8_t> out({py::ssize_t(hashes.size()), py::ssize_t(vcp::kHashBytes)});
  if (!hashes.empty()) std::memcpy(out.mutable_data(), hashes.data(), hashes.size() * vcp::kHashBytes);
  return out;
}
std::vector<vcp::Hash32> HashesFrom(const py::array& array) {
  if (array.ndim() != 2 || array.shape(1) != 32 || array.itemsize() != 1) {
    ThrowInvalid("leaf hashes must be an (L, 32) uint8 array");
  }
  py::array contiguous = py::array::ensure(array, py::array::c_style);
  std::vector<vcp::Hash32> hashes(size_t(array.shape(0)));
  if (!hashes.empty()) std::memcpy(hashes.data(), contiguous.data(), hashes.size() * vcp::kHashBytes);
  return hashes;
}

struct Commitment {
  std::unique_ptr<vcp::Commitment> c;
};

struct SecretKey {
  vcp::SecretKey key;
};

// A session with an explicit close(): the store lock must be released when the caller says, not at collection.
template <typename Session>
struct Held {
  std::optional<Session> session;
  Session& get() {
    if (!session) ThrowInvalid("the session is closed");
    return *session;
  }
};
using Provider = Held<vcp::ProviderSession>;
using Verifier = Held<vcp::VerifierSession>;

py::dict FindingDict(const vcp::Finding& f) {
  py::dict d;
  d["reason"] = std::string(vcp::ReasonName(f.reason));
  d["detail"] = f.detail;
  d["passed"] = f.ok();
  return d;
}

}  // namespace

PYBIND11_MODULE(vcp, m) {
  m.doc() = "vcp: verifiable compute proofs (Python bindings over libvcp). See python/README.md.";
  m.attr("__version__") = std::string(vcp::kVersion);

  py::exec(R"(
class Error(Exception):
    """A failed vcp call: code is the status kind ("invalid argument", "rejected", ...), value its integer."""
    def __init__(self, code, value, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.value = value
        self.message = message
)",
           m.attr("__dict__"));
  g_error_type = py::object(m.attr("Error")).release();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      py::tuple args = py::make_tuple(std::string(vcp::StatusCodeName(e.status.code())), int(e.status.code()),
                                      std::string(e.status.message()));
      PyErr_SetObject(g_error_type.ptr(), args.ptr());
    }
  });

  // --- workloads ---------------------------------------------------------------------------------------------
  py::class_<Workload>(m, "Workload", "A validated workload: C (M, N) = A (M, K) x B (K, N), tiles T x T.")
      .def(py::init(&Workload::Make), py::arg("kind") = "int8", py::arg("m"), py::arg("n"), py::arg("k"),
           py::arg("tile") = vcp::kDefaultTile, py::arg("seed"))
      .def_property_readonly("kind", [](const Workload& w) { return std::string(vcp::WorkloadName(w.params.kind)); })
      .def_property_readonly("m", [](const Workload& w) { return w.params.m; })
      .def_property_readonly("n", [](const Workload& w) { return w.params.n; })
      .def_property_readonly("k", [](const Workload& w) { return w.params.k; })
      .def_property_readonly("tile", [](const Workload& w) { return w.params.tile; })
      .def_property_readonly("seed", [](const Workload& w) { return Bytes(w.params.seed); })
      .def_property_readonly("operations", [](const Workload& w) { return vcp::OperationCount(w.params); })
      .def_property_readonly("tile_grid", [](const Workload& w) {
        const vcp::TileGrid g = vcp::TileGridOf(w.params);
        return py::make_tuple(g.tile_rows, g.tile_cols);
      })
      .def_property_readonly("leaf_count", [](const Workload& w) { return vcp::TileGridOf(w.params).leaf_count(); })
      .def("generate_a", [](const Workload& w, int threads) { return w.Generate(vcp::Matrix::kA, threads); },
           py::arg("threads") = 0, "A (M, K): int8, or float32 for fp32-ordered")
      .def("generate_b", [](const Workload& w, int threads) { return w.Generate(vcp::Matrix::kB, threads); },
           py::arg("threads") = 0, "B (K, N): int8, or float32 for fp32-ordered")
      .def("output", &Workload::Output, py::arg("threads") = 0, "C (M, N) on the CPU engine: int32 or float32")
      .def("tile_info", [](const Workload& w, uint64_t i) { return TileDict(w.TileChecked(i)); }, py::arg("index"))
      .def("tile_values", &Workload::TileValues, py::arg("index"),
           "tile `index` of C (rows, cols), recomputed from the seed alone: int32 or float32")
      .def("leaf_hash", &Workload::LeafHash, py::arg("index"), py::arg("values"),
           "the 32-byte leaf hash of tile `index` holding `values` (rows, cols)")
      .def("__repr__", [](const Workload& w) {
        return "vcp.Workload(kind='" + std::string(vcp::WorkloadName(w.params.kind)) + "', m=" +
               std::to_string(w.params.m) + ", n=" + std::to_string(w.params.n) + ", k=" + std::to_string(w.params.k) +
               ", tile=" + std::to_string(w.params.tile) + ", seed='" + vcp::ToHex(w.params.seed) + "')";
      });

  py::class_<Commitment>(m, "Commitment", "A run's committed tree: root, leaf hashes, openings.")
      .def_property_readonly("root", [](const Commitment& c) { return Bytes(c.c->root()); })
      .def_property_readonly("root_hex", [](const Commitment& c) { return vcp::ToHex(c.c->root()); })
      .def_property_readonly("leaf_count", [](const Commitment& c) { return c.c->leaf_count(); })
      .def_property_readonly("workload", [](const Commitment& c) { return Workload{c.c->params()}; })
      .def_property_readonly("device", [](const Commitment& c) {
        py::dict d;
        d["backend"] = c.c->device().backend;
        d["name"] = c.c->device().name;
        d["compute_units"] = c.c->device().compute_units;
        d["selection_note"] = c.c->device().selection_note;
        return d;
      })
      .def_property_readonly("timings", [](const Commitment& c) {
        py::dict d;
        d["generate_seconds"] = c.c->timings().generate_seconds;
        d["gemm_seconds"] = c.c->timings().gemm_seconds;
        d["gemm_path"] = c.c->timings().gemm_path;
        d["commit_seconds"] = c.c->timings().commit_seconds;
        d["total_seconds"] = c.c->timings().total_seconds;
        return d;
      })
      .def("leaf_hashes", [](const Commitment& c) { return HashArray(Take(c.c->LeafHashes())); },
           "every leaf hash, (L, 32) uint8, in leaf order")
      .def("open", [](const Commitment& c, std::vector<uint64_t> indices) {
        return Bytes(vcp::SerializeMultiProof(Take(c.c->Open(indices))));
      }, py::arg("indices"), "multiproof file bytes (\"VCPM\") for strictly increasing tile indices");

  m.def("run", [](const Workload& w, const std::string& backend, int threads, int device) {
    const vcp::RunOptions options = RunOptionsOf(backend, threads, device);
    vcp::Result<std::unique_ptr<vcp::Commitment>> result = vcp::Status::Internal("not run");
    {
      py::gil_scoped_release release;
      result = vcp::RunWorkload(w.params, options);
    }
    return Commitment{Take(std::move(result))};
  }, py::arg("workload"), py::arg("backend") = "auto", py::arg("threads") = 0, py::arg("device") = 0,
        "generate, compute and commit the workload on a backend (\"auto\", \"cpu\" or \"cuda\")");
  m.def("check", [](const Workload& w, const py::bytes& root, const py::bytes& proof, int threads) {
    const vcp::Hash32 r = Fixed<32>(root, "root");
    std::string_view storage;
    const vcp::MultiProof parsed = Take(vcp::ParseMultiProof(View(proof, storage)));
    vcp::Status status;
    {
      py::gil_scoped_release release;
      status = vcp::CheckOpening(w.params, r, parsed, threads);
    }
    ThrowIfError(status);
  }, py::arg("workload"), py::arg("root"), py::arg("proof"), py::arg("threads") = 0,
        "recompute the opened tiles from the seed and check the proof against root; raises vcp.Error (rejected)");
  m.def("merkle_root", [](const py::array& leaf_hashes) {
    return Bytes(vcp::MerkleTree::Build(HashesFrom(leaf_hashes), 1).root());
  }, py::arg("leaf_hashes"), "the root of the tree over (L, 32) uint8 leaf hashes");

  // --- keys ----------------------------------------------------------------------------------------------------
  py::class_<SecretKey>(m, "SecretKey", "An Ed25519 signing key (libsodium, guarded memory).")
      .def_static("generate", []() { return SecretKey{Take(vcp::SecretKey::Generate())}; })
      .def_static("from_seed", [](const py::bytes& seed) {
        const auto s = Fixed<32>(seed, "key seed");
        return SecretKey{Take(vcp::SecretKey::FromSeed(s))};
      }, py::arg("seed"))
      .def_static("load", [](const std::string& path) { return SecretKey{Take(vcp::ResolveSecretKey(path))}; },
                  py::arg("path"), "a vcp.key file, or the directory holding it")
      .def("save", [](const SecretKey& k, const std::string& dir) { ThrowIfError(vcp::SaveKeyPair(k.key, dir)); },
           py::arg("dir"), "write DIR/vcp.key (0600) and DIR/vcp.pub; refuses to overwrite")
      .def_property_readonly("public_key", [](const SecretKey& k) { return Bytes(k.key.public_key()); })
      .def("sign", [](const SecretKey& k, const py::bytes& message) {
        std::string_view storage;
        return Bytes(k.key.Sign(View(message, storage)));
      }, py::arg("message"));
  m.def("load_public_key", [](const std::string& arg) { return Bytes(Take(vcp::ResolvePublicKey(arg))); },
        py::arg("key"), "64 hex digits, a vcp.pub file or a directory holding one -> 32 bytes");
  m.def("verify", [](const py::bytes& public_key, const py::bytes& message, const py::bytes& signature) {
    std::string_view storage;
    ThrowIfError(vcp::VerifySignature(Fixed<32>(public_key, "public key"), View(message, storage),
                                      Fixed<64>(signature, "signature")));
  }, py::arg("public_key"), py::arg("message"), py::arg("signature"), "raises vcp.Error (rejected) when it fails");

  // --- messages ------------------------------------------------------------------------------------------------
  m.def("message_json", [](const py::bytes& message) {
    std::string_view storage;
    return Take(vcp::MessageJson(View(message, storage)));
  }, py::arg("message"), "any protocol message or multiproof file as JSON text");
  m.def("message_type", [](const py::bytes& message) {
    std::string_view storage;
    return std::string(vcp::MessageTypeName(Take(vcp::IdentifyMessage(View(message, storage)))));
  }, py::arg("message"), "\"lease\", \"lease-acceptance\", \"epoch-start\", ...");
  m.def("lease_id", [](const py::bytes& lease) {
    std::string_view storage;
    return Bytes(vcp::LeaseId(Take(vcp::ParseLease(View(lease, storage)))));
  }, py::arg("lease"));
  m.def("round_workload", [](const py::bytes& lease, const py::bytes& start, uint32_t epoch_round) {
    std::string_view s1, s2;
    const vcp::Lease l = Take(vcp::ParseLease(View(lease, s1)));
    const vcp::EpochStart st = Take(vcp::ParseEpochStart(View(start, s2)));
    if (epoch_round >= vcp::EpochRounds(l)) {
      ThrowInvalid("epoch round " + std::to_string(epoch_round) + " is out of range: the lease has " +
                   std::to_string(vcp::EpochRounds(l)) + " (D x R) rounds per epoch");
    }
    return Workload{vcp::RoundWorkload(l, st, epoch_round)};
  }, py::arg("lease"), py::arg("start"), py::arg("epoch_round"),
        "the workload (with its round seed) of epoch round q = d x R + r of an epoch start");

  // --- provider session ----------------------------------------------------------------------------------------
  py::class_<Provider>(m, "ProviderSession", "The provider's side of a lease over its store directory.")
      .def_static("accept", [](const std::string& dir, const py::bytes& lease, const SecretKey& key) {
        std::string_view storage;
        const vcp::Lease l = Take(vcp::ParseLease(View(lease, storage)));
        return Provider{Take(vcp::ProviderSession::Accept(dir, l, key.key))};
      }, py::arg("dir"), py::arg("lease"), py::arg("key"))
      .def_static("open", [](const std::string& dir) { return Provider{Take(vcp::ProviderSession::Open(dir))}; },
                  py::arg("dir"))
      .def_property_readonly("lease", [](Provider& p) { return Bytes(vcp::Serialize(p.get().lease())); })
      .def_property_readonly("lease_id", [](Provider& p) { return Bytes(p.get().lease_id()); })
      .def_property_readonly("acceptance", [](Provider& p) { return Bytes(vcp::Serialize(p.get().acceptance())); })
      .def("prove", [](Provider& p, const py::bytes& start, const SecretKey& key, const std::string& backend,
                       int threads, bool keep_leaves) {
        std::string_view storage;
        const vcp::EpochStart s = Take(vcp::ParseEpochStart(View(start, storage)));
        vcp::ProverOptions options;
        options.run = RunOptionsOf(backend, threads, 0);
        options.keep_leaves = keep_leaves;
        vcp::ProviderSession& session = p.get();
        vcp::Result<vcp::ProveOutcome> outcome = vcp::Status::Internal("not run");
        {
          py::gil_scoped_release release;
          outcome = session.Prove(s, key.key, options);
        }
        return Bytes(vcp::Serialize(Take(std::move(outcome)).record));
      }, py::arg("start"), py::arg("key"), py::arg("backend") = "auto", py::arg("threads") = 0,
         py::arg("keep_leaves") = true, "run the epoch: epoch-start bytes -> signed epoch-record bytes")
      .def("respond", [](Provider& p, const py::bytes& challenge, const SecretKey& key, const std::string& backend,
                         int threads) {
        std::string_view storage;
        const vcp::Challenge c = Take(vcp::ParseChallenge(View(challenge, storage)));
        vcp::ProverOptions options;
        options.run = RunOptionsOf(backend, threads, 0);
        vcp::ProviderSession& session = p.get();
        vcp::Result<vcp::RespondOutcome> outcome = vcp::Status::Internal("not run");
        {
          py::gil_scoped_release release;
          outcome = session.Respond(c, key.key, options);
        }
        return Bytes(vcp::Serialize(Take(std::move(outcome)).response));
      }, py::arg("challenge"), py::arg("key"), py::arg("backend") = "auto", py::arg("threads") = 0,
         "interactive mode: challenge bytes -> signed epoch-response bytes")
      .def("close", [](Provider& p) { p.session.reset(); }, "release the store lock")
      .def("__enter__", [](Provider& p) -> Provider& { return p; }, py::return_value_policy::reference)
      .def("__exit__", [](Provider& p, py::args) { p.session.reset(); });

  // --- verifier session ----------------------------------------------------------------------------------------
  py::class_<Verifier>(m, "VerifierSession", "The verifier's side of an interactive lease over its store directory.")
      .def_static("create", [](const std::string& dir, const SecretKey& key, const py::bytes& provider_key,
                               const Workload& workload, uint32_t rounds, uint64_t claimed_ops_per_second_per_device,
                               uint32_t samples, uint8_t devices, uint32_t slack_ppm, uint64_t network_allowance_us,
                               std::optional<uint64_t> start_us, std::optional<uint64_t> end_us, double audit_share,
                               int threads) {
        vcp::Lease terms;
        terms.mode = vcp::LeaseMode::kInteractive;
        terms.provider_key = Fixed<32>(provider_key, "provider key");
        terms.workload = workload.params;
        terms.workload.seed = {};  // rounds derive their own seeds
        terms.devices = devices;
        terms.rounds_per_epoch = rounds;
        terms.samples_per_epoch = samples ? samples : vcp::MinSamples(vcp::LeaseMode::kInteractive);
        terms.claimed_ops_per_second_per_device = claimed_ops_per_second_per_device;
        terms.slack_ppm = slack_ppm;
        terms.network_allowance_us = network_allowance_us;
        terms.start_us = start_us.value_or(NowUs());
        terms.end_us = end_us.value_or(terms.start_us + 3'600'000'000ull);
        vcp::VerifierOptions options;
        options.threads = threads;
        return Verifier{Take(vcp::VerifierSession::Create(dir, terms, key.key, audit_share, options))};
      }, py::arg("dir"), py::arg("key"), py::arg("provider_key"), py::arg("workload"), py::arg("rounds"),
         py::arg("claimed_ops_per_second_per_device"), py::arg("samples") = 0, py::arg("devices") = 1,
         py::arg("slack_ppm") = vcp::kDefaultSlackPpm, py::arg("network_allowance_us") = 0,
         py::arg("start_us") = py::none(), py::arg("end_us") = py::none(), py::arg("audit_share") = 0.01,
         py::arg("threads") = 0,
         "sign a new lease (workload's seed unused; samples 0 = the minimum; start now, end an hour later)")
      .def_static("open", [](const std::string& dir, int threads) {
        vcp::VerifierOptions options;
        options.threads = threads;
        return Verifier{Take(vcp::VerifierSession::Open(dir, options))};
      }, py::arg("dir"), py::arg("threads") = 0)
      .def_property_readonly("lease", [](Verifier& v) { return Bytes(vcp::Serialize(v.get().lease())); })
      .def_property_readonly("lease_id", [](Verifier& v) { return Bytes(v.get().lease_id()); })
      .def_property_readonly("accepted", [](Verifier& v) { return v.get().accepted(); })
      .def("add_acceptance", [](Verifier& v, const py::bytes& acceptance) {
        std::string_view storage;
        ThrowIfError(v.get().AddAcceptance(Take(vcp::ParseLeaseAcceptance(View(acceptance, storage)))));
      }, py::arg("acceptance"))
      .def("start_epoch", [](Verifier& v, const SecretKey& key, const std::string& schedule) {
        return Bytes(vcp::Serialize(Take(v.get().StartEpoch(key.key, Take(vcp::ParseEpochSchedule(schedule))))));
      }, py::arg("key"), py::arg("schedule") = "on-demand", "\"on-demand\" or \"scheduled\" -> epoch-start bytes")
      .def("receive_record", [](Verifier& v, const py::bytes& record, const SecretKey& key) {
        std::string_view storage;
        const vcp::RecordOutcome o = Take(v.get().ReceiveRecord(View(record, storage), key.key));
        py::dict d = FindingDict(o.finding);
        d["challenge"] = o.challenge ? py::object(Bytes(vcp::Serialize(*o.challenge))) : py::none();
        d["verdict"] = o.verdict ? py::object(Bytes(vcp::Serialize(*o.verdict))) : py::none();
        d["already_received"] = o.already_received;
        return d;
      }, py::arg("record"), py::arg("key"),
         "{reason, detail, passed, challenge (bytes or None), verdict (bytes or None), already_received}")
      .def("receive_response", [](Verifier& v, const py::bytes& response, const SecretKey& key) {
        std::string_view storage;
        vcp::VerifierSession& session = v.get();
        const std::span<const uint8_t> bytes = View(response, storage);
        vcp::Result<vcp::ResponseOutcome> result = vcp::Status::Internal("not run");
        {
          py::gil_scoped_release release;
          result = session.ReceiveResponse(bytes, key.key);
        }
        const vcp::ResponseOutcome o = Take(std::move(result));
        py::dict d = FindingDict(o.finding);
        d["verdict"] = o.verdict ? py::object(Bytes(vcp::Serialize(*o.verdict))) : py::none();
        d["already_given"] = o.already_given;
        return d;
      }, py::arg("response"), py::arg("key"), "{reason, detail, passed, verdict (bytes or None), already_given}")
      .def("verdicts", [](Verifier& v) {
        py::list out;
        for (const vcp::Verdict& verdict : v.get().verdicts()) out.append(Bytes(vcp::Serialize(verdict)));
        return out;
      })
      .def("report_json", [](Verifier& v, std::optional<uint64_t> now_us, double confidence) {
        vcp::VerifierSession& session = v.get();
        const vcp::LeaseReport report = session.Report(now_us.value_or(NowUs()), confidence);
        return vcp::ReportJson(session.lease(), report, session.verdicts()).dump(2);
      }, py::arg("now_us") = py::none(), py::arg("confidence") = 0.95, "the lease verdict as `vcp report --json`")
      .def("close", [](Verifier& v) { v.session.reset(); }, "release the store lock")
      .def("__enter__", [](Verifier& v) -> Verifier& { return v; }, py::return_value_policy::reference)
      .def("__exit__", [](Verifier& v, py::args) { v.session.reset(); });
}

// lib/c_api.cpp: the C API (include/vcp/vcp.h), thin wrappers over the C++ public API in one file. Each entry point
// checks its pointers and lengths, calls the C++ function and turns its Status into a code and a message; nothing
// is decided here that the C++ API does not decide. No exception leaves this file: every body runs inside Guard,
// which maps std::bad_alloc to VCP_RESOURCE_EXHAUSTED and anything else to VCP_INTERNAL.
#include "vcp/vcp.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/report_json.h"
#include "vcp/engine.h"
#include "vcp/keys.h"
#include "vcp/lease_session.h"
#include "vcp/merkle.h"
#include "vcp/message_json.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/version.h"
#include "vcp/workload.h"

// The handles: each owns one C++ object.
struct vcp_commitment {
  std::unique_ptr<vcp::Commitment> commitment;
};
struct vcp_secret_key {
  vcp::SecretKey key;
};
struct vcp_provider {
  vcp::ProviderSession session;
};
struct vcp_verifier {
  vcp::VerifierSession session;
};

namespace {

using vcp::Status;

static_assert(int(vcp::StatusCode::kInvalidArgument) == VCP_INVALID_ARGUMENT &&
                  int(vcp::StatusCode::kIoError) == VCP_IO_ERROR && int(vcp::StatusCode::kCorrupt) == VCP_CORRUPT &&
                  int(vcp::StatusCode::kRejected) == VCP_REJECTED &&
                  int(vcp::StatusCode::kUnavailable) == VCP_UNAVAILABLE &&
                  int(vcp::StatusCode::kResourceExhausted) == VCP_RESOURCE_EXHAUSTED &&
                  int(vcp::StatusCode::kInternal) == VCP_INTERNAL,
              "the C codes mirror vcp::StatusCode");
static_assert(VCP_HASH_BYTES == vcp::kHashBytes && VCP_PUBLIC_KEY_BYTES == vcp::kPublicKeyBytes &&
              VCP_SIGNATURE_BYTES == vcp::kSignatureBytes && VCP_SEED_BYTES == sizeof(vcp::Seed));
static_assert(int(vcp::WorkloadKind::kInt8) == VCP_WORKLOAD_INT8 &&
              int(vcp::WorkloadKind::kFp32Ordered) == VCP_WORKLOAD_FP32_ORDERED);
static_assert(int(vcp::LeaseMode::kInteractive) == VCP_MODE_INTERACTIVE &&
              int(vcp::LeaseMode::kBeacon) == VCP_MODE_BEACON);
static_assert(int(vcp::EpochSchedule::kScheduled) == VCP_SCHEDULE_SCHEDULED &&
              int(vcp::EpochSchedule::kOnDemand) == VCP_SCHEDULE_ON_DEMAND);

// Copies text into a fixed array, cut to fit and always NUL-terminated.
template <size_t N>
void CopyText(char (&out)[N], std::string_view text) {
  const size_t n = std::min(text.size(), N - 1);
  // An empty view may hold a null pointer (an OK Status's message), and memcpy from null is undefined even for
  // zero bytes.
  if (n > 0) std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

vcp_status Report(const Status& status, vcp_error* error) {
  if (error != nullptr) {
    error->code = int(status.code());
    CopyText(error->message, status.message());
  }
  return int(status.code());
}

// What the exception in flight says (inside a catch block only).
std::string CurrentExceptionText() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "not a std::exception";
  }
}

// Runs body, a callable returning Status, with no exception escaping.
template <typename Body>
vcp_status Guard(vcp_error* error, Body&& body) noexcept {
  try {
    return Report(body(), error);
  } catch (const std::bad_alloc&) {
    if (error != nullptr) {
      error->code = VCP_RESOURCE_EXHAUSTED;
      CopyText(error->message, "out of memory in the vcp C API");
    }
    return VCP_RESOURCE_EXHAUSTED;
  } catch (...) {
    // Building the message may itself run out of memory: then only the code is reported.
    try {
      return Report(Status::Internal("unexpected exception in the vcp C API: " + CurrentExceptionText()), error);
    } catch (...) {
      if (error != nullptr) {
        error->code = VCP_INTERNAL;
        CopyText(error->message, "unexpected exception in the vcp C API");
      }
      return VCP_INTERNAL;
    }
  }
}

Status Null(std::string_view what) {
  return Status::InvalidArgument(std::string(what) + " is NULL: this argument is required");
}

// A byte input: NULL or empty is refused, naming it.
vcp::Result<std::span<const uint8_t>> Bytes(const uint8_t* data, size_t size, std::string_view what) {
  if (data == nullptr) return Null(what);
  if (size == 0) return Status::InvalidArgument(std::string(what) + " is empty (size 0): give its bytes");
  return std::span<const uint8_t>(data, size);
}

// A byte input of an exact size.
vcp::Result<std::span<const uint8_t>> FixedBytes(const uint8_t* data, size_t size, size_t want, std::string_view what) {
  if (data == nullptr) return Null(what);
  if (size != want) {
    return Status::InvalidArgument(std::string(what) + " is " + std::to_string(size) + " bytes; it must be " +
                                   std::to_string(want));
  }
  return std::span<const uint8_t>(data, size);
}

vcp::Result<std::filesystem::path> Path(const char* path, std::string_view what) {
  if (path == nullptr) return Null(what);
  if (*path == '\0') return Status::InvalidArgument(std::string(what) + " is empty: give a path");
  return std::filesystem::path(path);
}

// Empties an output buffer on entry, so a failed call leaves it empty.
Status ClearOutput(vcp_buffer* out, std::string_view what) {
  if (out == nullptr) return Null(what);
  out->data = nullptr;
  out->size = 0;
  return Status::Ok();
}

// Copies bytes into a library-allocated buffer, one NUL byte past the end so that text is a C string.
Status Fill(vcp_buffer* out, std::span<const uint8_t> bytes) {
  auto* data = static_cast<uint8_t*>(std::malloc(bytes.size() + 1));
  if (data == nullptr) return Status::ResourceExhausted("out of memory for a " + std::to_string(bytes.size()) +
                                                        "-byte output buffer");
  if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
  data[bytes.size()] = 0;
  out->data = data;
  out->size = bytes.size();
  return Status::Ok();
}
Status FillText(vcp_buffer* out, std::string_view text) {
  return Fill(out, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

vcp::Result<vcp::WorkloadParams> ToParams(const vcp_workload* workload) {
  if (workload == nullptr) return Null("workload");
  if (workload->kind < 0 || workload->kind > 255 || vcp::FindWorkload(vcp::WorkloadKind(workload->kind)) == nullptr) {
    return Status::InvalidArgument("workload kind " + std::to_string(workload->kind) +
                                   " is unknown; allowed: 1 (int8), 2 (fp32-ordered)");
  }
  vcp::WorkloadParams params;
  params.kind = vcp::WorkloadKind(workload->kind);
  params.m = workload->m;
  params.n = workload->n;
  params.k = workload->k;
  params.tile = workload->tile;
  std::copy(std::begin(workload->seed), std::end(workload->seed), params.seed.begin());
  VCP_RETURN_IF_ERROR(vcp::ValidateWorkload(params));
  return params;
}

vcp::Result<vcp::RunOptions> ToRunOptions(const vcp_run_options* options) {
  vcp::RunOptions run;
  if (options == nullptr) return run;
  switch (options->backend) {
    case VCP_BACKEND_AUTO: run.backend = vcp::BackendChoice::kAuto; break;
    case VCP_BACKEND_CPU: run.backend = vcp::BackendChoice::kCpu; break;
    case VCP_BACKEND_CUDA: run.backend = vcp::BackendChoice::kCuda; break;
    default:
      return Status::InvalidArgument("backend " + std::to_string(options->backend) +
                                     " is unknown; allowed: 0 (auto), 1 (cpu), 2 (cuda)");
  }
  if (options->threads < 0) {
    return Status::InvalidArgument("threads " + std::to_string(options->threads) +
                                   " is negative; give 0 (all hardware threads) or more");
  }
  run.threads = options->threads;
  run.device = options->device;  // RunWorkload refuses a negative or absent ordinal, naming those allowed
  return run;
}

vcp::Result<vcp::ProverOptions> ToProverOptions(const vcp_run_options* options) {
  vcp::ProverOptions prover;
  VCP_ASSIGN_OR_RETURN(prover.run, ToRunOptions(options));
  return prover;
}

void SetFinding(vcp_finding* out, const vcp::Finding& finding, bool closed) {
  out->reason = int(finding.reason);
  out->closed = closed ? 1 : 0;
  CopyText(out->reason_name, vcp::ReasonName(finding.reason));
  CopyText(out->detail, finding.detail);
}
void ClearFinding(vcp_finding* out) { SetFinding(out, vcp::Finding{}, false); }

vcp::Result<vcp::Lease> ToLease(const vcp_lease_terms* terms) {
  if (terms == nullptr) return Null("lease terms");
  if (terms->mode != VCP_MODE_INTERACTIVE && terms->mode != VCP_MODE_BEACON) {
    return Status::InvalidArgument("lease mode " + std::to_string(terms->mode) +
                                   " is unknown; allowed: 1 (interactive), 2 (beacon)");
  }
  vcp_workload workload{};
  workload.kind = terms->workload_kind;
  workload.m = terms->m;
  workload.n = terms->n;
  workload.k = terms->k;
  workload.tile = terms->tile;
  VCP_ASSIGN_OR_RETURN(vcp::WorkloadParams params, ToParams(&workload));
  // Lease::devices is one byte: refuse what would wrap before ValidateLease sees it.
  if (terms->devices == 0 || terms->devices > vcp::kMaxDevices) {
    return Status::InvalidArgument("devices " + std::to_string(terms->devices) + " is out of range; allowed: 1.." +
                                   std::to_string(vcp::kMaxDevices));
  }
  vcp::Lease lease;
  lease.mode = vcp::LeaseMode(terms->mode);
  std::copy(std::begin(terms->provider_key), std::end(terms->provider_key), lease.provider_key.begin());
  lease.workload = params;
  lease.devices = uint8_t(terms->devices);
  lease.rounds_per_epoch = terms->rounds_per_epoch;
  lease.samples_per_epoch = terms->samples_per_epoch;
  lease.claimed_ops_per_second_per_device = terms->claimed_ops_per_second_per_device;
  lease.slack_ppm = terms->slack_ppm;
  lease.network_allowance_us = terms->network_allowance_us;
  lease.start_us = terms->start_us;
  lease.end_us = terms->end_us;
  if (terms->beacon_name != nullptr) lease.beacon_name = terms->beacon_name;
  lease.beacon_genesis_us = terms->beacon_genesis_us;
  lease.beacon_period_us = terms->beacon_period_us;
  return lease;
}

}  // namespace

extern "C" {

void vcp_buffer_free(vcp_buffer* buffer) {
  if (buffer == nullptr) return;
  std::free(buffer->data);
  buffer->data = nullptr;
  buffer->size = 0;
}

const char* vcp_version(void) { return VCP_VERSION_STRING; }
int vcp_c_api_version(void) { return VCP_C_API_VERSION; }
uint64_t vcp_now_us(void) { return vcp::SystemClock().NowMicros(); }

// ---- workloads ------------------------------------------------------------------------------------------------

void vcp_run_options_init(vcp_run_options* options) {
  if (options == nullptr) return;
  options->backend = VCP_BACKEND_AUTO;
  options->threads = 0;
  options->device = 0;
}

vcp_status vcp_workload_run(const vcp_workload* workload, const vcp_run_options* options, vcp_commitment** out,
                            vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (out == nullptr) return Null("output commitment pointer");
    *out = nullptr;
    VCP_ASSIGN_OR_RETURN(vcp::WorkloadParams params, ToParams(workload));
    VCP_ASSIGN_OR_RETURN(vcp::RunOptions run, ToRunOptions(options));
    VCP_ASSIGN_OR_RETURN(std::unique_ptr<vcp::Commitment> commitment, vcp::RunWorkload(params, run));
    *out = new vcp_commitment{std::move(commitment)};
    return Status::Ok();
  });
}

void vcp_commitment_free(vcp_commitment* commitment) { delete commitment; }

vcp_status vcp_commitment_root(const vcp_commitment* commitment, uint8_t root[VCP_HASH_BYTES], vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (commitment == nullptr) return Null("commitment");
    if (root == nullptr) return Null("output root");
    const vcp::Hash32& r = commitment->commitment->root();
    std::copy(r.begin(), r.end(), root);
    return Status::Ok();
  });
}

vcp_status vcp_commitment_leaf_count(const vcp_commitment* commitment, uint64_t* leaf_count, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (commitment == nullptr) return Null("commitment");
    if (leaf_count == nullptr) return Null("output leaf count");
    *leaf_count = commitment->commitment->leaf_count();
    return Status::Ok();
  });
}

vcp_status vcp_commitment_open(const vcp_commitment* commitment, const uint64_t* indices, size_t count,
                               vcp_buffer* proof, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(proof, "output proof buffer"));
    if (commitment == nullptr) return Null("commitment");
    if (indices == nullptr) return Null("tile indices");
    if (count == 0) return Status::InvalidArgument("no tile indices (count 0): open at least one tile");
    VCP_ASSIGN_OR_RETURN(vcp::MultiProof multi, commitment->commitment->Open(std::span(indices, count)));
    return Fill(proof, vcp::SerializeMultiProof(multi));
  });
}

vcp_status vcp_workload_check(const vcp_workload* workload, const uint8_t* root, size_t root_size,
                              const uint8_t* proof, size_t proof_size, int threads, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_ASSIGN_OR_RETURN(vcp::WorkloadParams params, ToParams(workload));
    VCP_ASSIGN_OR_RETURN(auto root_bytes, FixedBytes(root, root_size, VCP_HASH_BYTES, "root"));
    VCP_ASSIGN_OR_RETURN(auto proof_bytes, Bytes(proof, proof_size, "proof"));
    if (threads < 0) return Status::InvalidArgument("threads " + std::to_string(threads) + " is negative");
    VCP_ASSIGN_OR_RETURN(vcp::MultiProof multi, vcp::ParseMultiProof(proof_bytes));
    vcp::Hash32 r{};
    std::copy(root_bytes.begin(), root_bytes.end(), r.begin());
    return vcp::CheckOpening(params, r, multi, threads);
  });
}

// ---- keys -----------------------------------------------------------------------------------------------------

vcp_status vcp_key_generate(vcp_secret_key** out, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (out == nullptr) return Null("output key pointer");
    *out = nullptr;
    VCP_ASSIGN_OR_RETURN(vcp::SecretKey key, vcp::SecretKey::Generate());
    *out = new vcp_secret_key{std::move(key)};
    return Status::Ok();
  });
}

vcp_status vcp_key_from_seed(const uint8_t* seed, size_t seed_size, vcp_secret_key** out, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (out == nullptr) return Null("output key pointer");
    *out = nullptr;
    VCP_ASSIGN_OR_RETURN(auto bytes, FixedBytes(seed, seed_size, VCP_SEED_BYTES, "key seed"));
    VCP_ASSIGN_OR_RETURN(vcp::SecretKey key, vcp::SecretKey::FromSeed(bytes.first<VCP_SEED_BYTES>()));
    *out = new vcp_secret_key{std::move(key)};
    return Status::Ok();
  });
}

vcp_status vcp_key_load(const char* path, vcp_secret_key** out, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (out == nullptr) return Null("output key pointer");
    *out = nullptr;
    if (path == nullptr) return Null("key path");
    VCP_ASSIGN_OR_RETURN(vcp::SecretKey key, vcp::ResolveSecretKey(path));
    *out = new vcp_secret_key{std::move(key)};
    return Status::Ok();
  });
}

vcp_status vcp_key_save(const vcp_secret_key* key, const char* dir, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (key == nullptr) return Null("key");
    VCP_ASSIGN_OR_RETURN(std::filesystem::path d, Path(dir, "key directory"));
    return vcp::SaveKeyPair(key->key, d);
  });
}

void vcp_key_free(vcp_secret_key* key) { delete key; }

vcp_status vcp_key_public(const vcp_secret_key* key, uint8_t public_key[VCP_PUBLIC_KEY_BYTES], vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (key == nullptr) return Null("key");
    if (public_key == nullptr) return Null("output public key");
    std::copy(key->key.public_key().begin(), key->key.public_key().end(), public_key);
    return Status::Ok();
  });
}

vcp_status vcp_public_key_load(const char* argument, uint8_t public_key[VCP_PUBLIC_KEY_BYTES], vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (argument == nullptr) return Null("public key argument");
    if (public_key == nullptr) return Null("output public key");
    VCP_ASSIGN_OR_RETURN(vcp::PublicKey key, vcp::ResolvePublicKey(argument));
    std::copy(key.begin(), key.end(), public_key);
    return Status::Ok();
  });
}

vcp_status vcp_key_sign(const vcp_secret_key* key, const uint8_t* message, size_t message_size,
                        uint8_t signature[VCP_SIGNATURE_BYTES], vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (key == nullptr) return Null("key");
    if (signature == nullptr) return Null("output signature");
    if (message == nullptr && message_size != 0) return Null("message (with a nonzero size)");
    const vcp::Signature s = key->key.Sign(std::span<const uint8_t>(message, message_size));
    std::copy(s.begin(), s.end(), signature);
    return Status::Ok();
  });
}

vcp_status vcp_signature_verify(const uint8_t* public_key, size_t public_key_size, const uint8_t* message,
                                size_t message_size, const uint8_t* signature, size_t signature_size,
                                vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_ASSIGN_OR_RETURN(auto key_bytes, FixedBytes(public_key, public_key_size, VCP_PUBLIC_KEY_BYTES, "public key"));
    VCP_ASSIGN_OR_RETURN(auto sig_bytes, FixedBytes(signature, signature_size, VCP_SIGNATURE_BYTES, "signature"));
    if (message == nullptr && message_size != 0) return Null("message (with a nonzero size)");
    vcp::PublicKey key{};
    vcp::Signature sig{};
    std::copy(key_bytes.begin(), key_bytes.end(), key.begin());
    std::copy(sig_bytes.begin(), sig_bytes.end(), sig.begin());
    return vcp::VerifySignature(key, std::span<const uint8_t>(message, message_size), sig);
  });
}

// ---- provider -------------------------------------------------------------------------------------------------

vcp_status vcp_provider_accept(const char* dir, const uint8_t* lease, size_t lease_size, const vcp_secret_key* key,
                               vcp_provider** out, vcp_buffer* acceptance, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (out == nullptr) return Null("output provider pointer");
    *out = nullptr;
    if (acceptance != nullptr) VCP_RETURN_IF_ERROR(ClearOutput(acceptance, "output acceptance buffer"));
    VCP_ASSIGN_OR_RETURN(std::filesystem::path d, Path(dir, "provider store directory"));
    VCP_ASSIGN_OR_RETURN(auto bytes, Bytes(lease, lease_size, "lease"));
    if (key == nullptr) return Null("provider key");
    VCP_ASSIGN_OR_RETURN(vcp::Lease parsed, vcp::ParseLease(bytes));
    VCP_ASSIGN_OR_RETURN(vcp::ProviderSession session, vcp::ProviderSession::Accept(d, parsed, key->key));
    auto handle = std::make_unique<vcp_provider>(vcp_provider{std::move(session)});
    if (acceptance != nullptr) VCP_RETURN_IF_ERROR(Fill(acceptance, vcp::Serialize(handle->session.acceptance())));
    *out = handle.release();
    return Status::Ok();
  });
}

vcp_status vcp_provider_open(const char* dir, vcp_provider** out, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (out == nullptr) return Null("output provider pointer");
    *out = nullptr;
    VCP_ASSIGN_OR_RETURN(std::filesystem::path d, Path(dir, "provider store directory"));
    VCP_ASSIGN_OR_RETURN(vcp::ProviderSession session, vcp::ProviderSession::Open(d));
    *out = new vcp_provider{std::move(session)};
    return Status::Ok();
  });
}

void vcp_provider_free(vcp_provider* provider) { delete provider; }

vcp_status vcp_provider_acceptance(const vcp_provider* provider, vcp_buffer* acceptance, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(acceptance, "output acceptance buffer"));
    if (provider == nullptr) return Null("provider");
    return Fill(acceptance, vcp::Serialize(provider->session.acceptance()));
  });
}

vcp_status vcp_provider_prove(vcp_provider* provider, const uint8_t* start, size_t start_size,
                              const vcp_secret_key* key, const vcp_run_options* options, vcp_buffer* record,
                              vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(record, "output record buffer"));
    if (provider == nullptr) return Null("provider");
    if (key == nullptr) return Null("provider key");
    VCP_ASSIGN_OR_RETURN(auto bytes, Bytes(start, start_size, "epoch start"));
    VCP_ASSIGN_OR_RETURN(vcp::ProverOptions prover, ToProverOptions(options));
    VCP_ASSIGN_OR_RETURN(vcp::EpochStart parsed, vcp::ParseEpochStart(bytes));
    VCP_ASSIGN_OR_RETURN(vcp::ProveOutcome proved, provider->session.Prove(parsed, key->key, prover));
    return Fill(record, vcp::Serialize(proved.record));
  });
}

vcp_status vcp_provider_respond(vcp_provider* provider, const uint8_t* challenge, size_t challenge_size,
                                const vcp_secret_key* key, const vcp_run_options* options, vcp_buffer* response,
                                vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(response, "output response buffer"));
    if (provider == nullptr) return Null("provider");
    if (key == nullptr) return Null("provider key");
    VCP_ASSIGN_OR_RETURN(auto bytes, Bytes(challenge, challenge_size, "challenge"));
    VCP_ASSIGN_OR_RETURN(vcp::ProverOptions prover, ToProverOptions(options));
    VCP_ASSIGN_OR_RETURN(vcp::Challenge parsed, vcp::ParseChallenge(bytes));
    VCP_ASSIGN_OR_RETURN(vcp::RespondOutcome responded, provider->session.Respond(parsed, key->key, prover));
    return Fill(response, vcp::Serialize(responded.response));
  });
}

// ---- verifier -------------------------------------------------------------------------------------------------

void vcp_lease_terms_init(vcp_lease_terms* terms) {
  if (terms == nullptr) return;
  *terms = vcp_lease_terms{};
  terms->mode = VCP_MODE_INTERACTIVE;
  terms->workload_kind = VCP_WORKLOAD_INT8;
  terms->tile = vcp::kDefaultTile;
  terms->devices = 1;
  terms->samples_per_epoch = vcp::MinSamples(vcp::LeaseMode::kInteractive);
  terms->slack_ppm = vcp::kDefaultSlackPpm;
}

vcp_status vcp_verifier_create(const char* dir, const vcp_lease_terms* terms, const vcp_secret_key* key,
                               double audit_share, vcp_verifier** out, vcp_buffer* lease, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (out == nullptr) return Null("output verifier pointer");
    *out = nullptr;
    if (lease != nullptr) VCP_RETURN_IF_ERROR(ClearOutput(lease, "output lease buffer"));
    VCP_ASSIGN_OR_RETURN(std::filesystem::path d, Path(dir, "verifier store directory"));
    VCP_ASSIGN_OR_RETURN(vcp::Lease parsed, ToLease(terms));
    if (key == nullptr) return Null("verifier key");
    if (!(audit_share > 0 && audit_share <= 1)) {
      return Status::InvalidArgument("audit share " + std::to_string(audit_share) + " is out of range; allowed: (0, 1]");
    }
    VCP_ASSIGN_OR_RETURN(vcp::VerifierSession session,
                         vcp::VerifierSession::Create(d, std::move(parsed), key->key, audit_share));
    auto handle = std::make_unique<vcp_verifier>(vcp_verifier{std::move(session)});
    if (lease != nullptr) VCP_RETURN_IF_ERROR(Fill(lease, vcp::Serialize(handle->session.lease())));
    *out = handle.release();
    return Status::Ok();
  });
}

vcp_status vcp_verifier_open(const char* dir, vcp_verifier** out, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (out == nullptr) return Null("output verifier pointer");
    *out = nullptr;
    VCP_ASSIGN_OR_RETURN(std::filesystem::path d, Path(dir, "verifier store directory"));
    VCP_ASSIGN_OR_RETURN(vcp::VerifierSession session, vcp::VerifierSession::Open(d));
    *out = new vcp_verifier{std::move(session)};
    return Status::Ok();
  });
}

void vcp_verifier_free(vcp_verifier* verifier) { delete verifier; }

vcp_status vcp_verifier_lease(const vcp_verifier* verifier, vcp_buffer* lease, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(lease, "output lease buffer"));
    if (verifier == nullptr) return Null("verifier");
    return Fill(lease, vcp::Serialize(verifier->session.lease()));
  });
}

vcp_status vcp_verifier_lease_id(const vcp_verifier* verifier, uint8_t lease_id[VCP_HASH_BYTES], vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (verifier == nullptr) return Null("verifier");
    if (lease_id == nullptr) return Null("output lease id");
    std::copy(verifier->session.lease_id().begin(), verifier->session.lease_id().end(), lease_id);
    return Status::Ok();
  });
}

vcp_status vcp_verifier_add_acceptance(vcp_verifier* verifier, const uint8_t* acceptance, size_t acceptance_size,
                                       vcp_error* error) {
  return Guard(error, [&]() -> Status {
    if (verifier == nullptr) return Null("verifier");
    VCP_ASSIGN_OR_RETURN(auto bytes, Bytes(acceptance, acceptance_size, "lease acceptance"));
    VCP_ASSIGN_OR_RETURN(vcp::LeaseAcceptance parsed, vcp::ParseLeaseAcceptance(bytes));
    return verifier->session.AddAcceptance(parsed);
  });
}

vcp_status vcp_verifier_start_epoch(vcp_verifier* verifier, const vcp_secret_key* key, int schedule,
                                    vcp_buffer* start, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(start, "output epoch start buffer"));
    if (verifier == nullptr) return Null("verifier");
    if (key == nullptr) return Null("verifier key");
    if (schedule != VCP_SCHEDULE_SCHEDULED && schedule != VCP_SCHEDULE_ON_DEMAND) {
      return Status::InvalidArgument("schedule " + std::to_string(schedule) +
                                     " is unknown; allowed: 1 (scheduled), 2 (on-demand)");
    }
    VCP_ASSIGN_OR_RETURN(vcp::EpochStart issued,
                         verifier->session.StartEpoch(key->key, vcp::EpochSchedule(schedule)));
    return Fill(start, vcp::Serialize(issued));
  });
}

vcp_status vcp_verifier_receive_record(vcp_verifier* verifier, const uint8_t* record, size_t record_size,
                                       const vcp_secret_key* key, vcp_buffer* challenge, vcp_buffer* verdict,
                                       vcp_finding* finding, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(challenge, "output challenge buffer"));
    VCP_RETURN_IF_ERROR(ClearOutput(verdict, "output verdict buffer"));
    if (finding == nullptr) return Null("output finding");
    ClearFinding(finding);
    if (verifier == nullptr) return Null("verifier");
    if (key == nullptr) return Null("verifier key");
    VCP_ASSIGN_OR_RETURN(auto bytes, Bytes(record, record_size, "epoch record"));
    VCP_ASSIGN_OR_RETURN(vcp::RecordOutcome outcome, verifier->session.ReceiveRecord(bytes, key->key));
    SetFinding(finding, outcome.finding, outcome.verdict.has_value());
    if (outcome.verdict) VCP_RETURN_IF_ERROR(Fill(verdict, vcp::Serialize(*outcome.verdict)));
    if (outcome.challenge) {
      const Status filled = Fill(challenge, vcp::Serialize(*outcome.challenge));
      if (!filled.ok()) vcp_buffer_free(verdict);  // a failed call leaves every output empty
      return filled;
    }
    return Status::Ok();
  });
}

vcp_status vcp_verifier_receive_response(vcp_verifier* verifier, const uint8_t* response, size_t response_size,
                                         const vcp_secret_key* key, vcp_buffer* verdict, vcp_finding* finding,
                                         vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(verdict, "output verdict buffer"));
    if (finding == nullptr) return Null("output finding");
    ClearFinding(finding);
    if (verifier == nullptr) return Null("verifier");
    if (key == nullptr) return Null("verifier key");
    VCP_ASSIGN_OR_RETURN(auto bytes, Bytes(response, response_size, "epoch response"));
    VCP_ASSIGN_OR_RETURN(vcp::ResponseOutcome outcome, verifier->session.ReceiveResponse(bytes, key->key));
    SetFinding(finding, outcome.finding, outcome.verdict.has_value());
    if (outcome.verdict) VCP_RETURN_IF_ERROR(Fill(verdict, vcp::Serialize(*outcome.verdict)));
    return Status::Ok();
  });
}

vcp_status vcp_verifier_report_json(const vcp_verifier* verifier, uint64_t now_us, double confidence,
                                    vcp_buffer* json, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(json, "output JSON buffer"));
    if (verifier == nullptr) return Null("verifier");
    if (!(confidence > 0 && confidence < 1)) {
      return Status::InvalidArgument("confidence " + std::to_string(confidence) + " is out of range; allowed: (0, 1)");
    }
    const vcp::VerifierSession& v = verifier->session;
    const vcp::LeaseReport report = v.Report(now_us != 0 ? now_us : vcp::SystemClock().NowMicros(), confidence);
    return FillText(json, vcp::ReportJson(v.lease(), report, v.verdicts()).dump(2));
  });
}

// ---- messages -------------------------------------------------------------------------------------------------

vcp_status vcp_message_json(const uint8_t* bytes, size_t size, vcp_buffer* json, vcp_error* error) {
  return Guard(error, [&]() -> Status {
    VCP_RETURN_IF_ERROR(ClearOutput(json, "output JSON buffer"));
    VCP_ASSIGN_OR_RETURN(auto input, Bytes(bytes, size, "message"));
    VCP_ASSIGN_OR_RETURN(std::string text, vcp::MessageJson(input));
    return FillText(json, text);
  });
}

}  // extern "C"

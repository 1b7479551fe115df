// Both roles of a lease, step by step, through the public headers only: the verifier creates a lease, the
// provider accepts it, then one epoch runs (start, prove, challenge, respond, verify) and the verifier reports.
// Every message crosses between the roles as bytes (Serialize, then Parse on the other side), as the CLI's files
// do; each role keeps its own crash-safe store in a temporary directory, removed at the end. Small shapes: a
// 64x64x64 int8 workload with 32x32 tiles, one device, R = 2 rounds, 40 sampled tiles per epoch. Exits 0 when the
// epoch passed.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "vcp/bytes.h"
#include "vcp/engine.h"
#include "vcp/keys.h"
#include "vcp/lease_session.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/verdict.h"

namespace {

namespace fs = std::filesystem;

// A message on the wire: what one role writes and the other reads.
template <typename Message>
std::vector<uint8_t> Send(const Message& m) {
  return vcp::Serialize(m);
}

vcp::Status RunLease(const fs::path& root) {
  VCP_ASSIGN_OR_RETURN(vcp::SecretKey verifier_key, vcp::SecretKey::Generate());
  VCP_ASSIGN_OR_RETURN(vcp::SecretKey provider_key, vcp::SecretKey::Generate());

  // Verifier: the terms; Create fills in the nonce, the verifier key and the signature, and logs the lease.
  vcp::Lease terms;
  terms.mode = vcp::LeaseMode::kInteractive;
  terms.workload.kind = vcp::WorkloadKind::kInt8;
  terms.workload.m = terms.workload.n = terms.workload.k = 64;
  terms.workload.tile = 32;
  terms.provider_key = provider_key.public_key();
  terms.devices = 1;
  terms.rounds_per_epoch = 2;
  terms.samples_per_epoch = vcp::MinSamples(terms.mode);
  // The deadline follows from the claimed rate: R x 2MNK = 1048576 operations per device at 21845 ops/s is a 48 s
  // compute time, 60 s with the default slack of 0.25 (generous: a loaded machine must meet it).
  terms.claimed_ops_per_second_per_device = 21845;
  terms.slack_ppm = vcp::kDefaultSlackPpm;
  terms.start_us = vcp::SystemClock().NowMicros();
  terms.end_us = terms.start_us + 3'600'000'000ull;
  VCP_ASSIGN_OR_RETURN(vcp::VerifierSession verifier,
                       vcp::VerifierSession::Create(root / "verifier", terms, verifier_key, /*audit_share=*/0.02));
  const std::vector<uint8_t> lease_bytes = Send(verifier.lease());
  std::printf("lease new      %s (%zu bytes), deadline %llu ms, a pass proves >= %.3g ops/s per device\n",
              vcp::ToHex(verifier.lease_id()).c_str(), lease_bytes.size(),
              static_cast<unsigned long long>(vcp::EpochDeadlineUs(verifier.lease()) / 1000),
              vcp::GuaranteedRatePerDevice(verifier.lease()));

  // Provider: checks the lease (signature, parameters, that it names this key) and signs the acceptance.
  VCP_ASSIGN_OR_RETURN(vcp::Lease lease, vcp::ParseLease(lease_bytes));
  VCP_ASSIGN_OR_RETURN(vcp::ProviderSession provider,
                       vcp::ProviderSession::Accept(root / "provider", lease, provider_key));
  const std::vector<uint8_t> acceptance_bytes = Send(provider.acceptance());
  std::printf("lease accept   %zu bytes\n", acceptance_bytes.size());

  // Verifier: records the acceptance and starts epoch 0 with a fresh beacon, on demand (a scheduled epoch waits for
  // the secret audit schedule); the deadline runs from now.
  VCP_ASSIGN_OR_RETURN(vcp::LeaseAcceptance acceptance, vcp::ParseLeaseAcceptance(acceptance_bytes));
  VCP_RETURN_IF_ERROR(verifier.AddAcceptance(acceptance));
  VCP_ASSIGN_OR_RETURN(vcp::EpochStart start_sent, verifier.StartEpoch(verifier_key, vcp::EpochSchedule::kOnDemand));
  const std::vector<uint8_t> start_bytes = Send(start_sent);
  std::printf("epoch start    epoch %llu\n", static_cast<unsigned long long>(start_sent.epoch));

  // Provider: runs R rounds on each of the lease's devices on the engine (the CPU here), commits them and signs the
  // record with each device's evidence.
  VCP_ASSIGN_OR_RETURN(vcp::EpochStart start, vcp::ParseEpochStart(start_bytes));
  vcp::ProverOptions prover;
  prover.run.backend = vcp::BackendChoice::kCpu;
  VCP_ASSIGN_OR_RETURN(vcp::ProveOutcome proved, provider.Prove(start, provider_key, prover));
  const std::vector<uint8_t> record_bytes = Send(proved.record);
  std::printf("prove          record %s, %llu operations in %.3f s\n",
              vcp::ToHex(vcp::RecordHash(proved.record)).c_str(),
              static_cast<unsigned long long>(proved.record.operations), proved.seconds);
  for (const vcp::DeviceEvidence& device : proved.record.devices) {
    std::printf("  device       %s\n", vcp::DescribeDevice(device).c_str());
  }

  // Verifier: notes the arrival time, checks the record and issues the challenge.
  VCP_ASSIGN_OR_RETURN(vcp::RecordOutcome checked, verifier.ReceiveRecord(record_bytes, verifier_key));
  if (checked.verdict) return vcp::Status::Rejected("the record failed: " + checked.verdict->detail);
  if (!checked.finding.ok() || !checked.challenge) {
    return vcp::Status::Rejected("the record was refused: " + checked.finding.detail);
  }
  const std::vector<uint8_t> challenge_bytes = Send(*checked.challenge);
  std::printf("challenge      %u sampled tiles follow from it\n", lease.samples_per_epoch);

  // Provider: opens the sampled tiles from the leaf hashes it kept.
  VCP_ASSIGN_OR_RETURN(vcp::Challenge challenge, vcp::ParseChallenge(challenge_bytes));
  VCP_ASSIGN_OR_RETURN(vcp::RespondOutcome responded, provider.Respond(challenge, provider_key, prover));
  const std::vector<uint8_t> response_bytes = Send(responded.response);
  std::printf("respond        %zu bytes, leaves from %s\n", response_bytes.size(),
              std::string(vcp::LeafSourceName(responded.leaf_source)).c_str());

  // Verifier: recomputes the sampled tiles on its CPU, checks the proofs and closes the epoch with a verdict.
  VCP_ASSIGN_OR_RETURN(vcp::ResponseOutcome verified, verifier.ReceiveResponse(response_bytes, verifier_key));
  if (!verified.verdict) return vcp::Status::Rejected("the response was refused: " + verified.finding.detail);
  const vcp::Verdict& verdict = *verified.verdict;
  std::printf("verify         %s: %s\n", std::string(vcp::ReasonName(verdict.reason)).c_str(), verdict.detail.c_str());

  const vcp::LeaseReport report = verifier.Report(vcp::SystemClock().NowMicros());
  std::printf("report         on demand: %llu passed, %llu failed, %llu missed; proven >= %.3g ops/s per device\n",
              static_cast<unsigned long long>(report.on_demand.passed),
              static_cast<unsigned long long>(report.on_demand.failed),
              static_cast<unsigned long long>(report.on_demand.missed), report.min_rate_per_device);
  if (verdict.reason != vcp::Reason::kPass || report.on_demand.passed != 1) {
    return vcp::Status::Rejected("the honest epoch did not pass");
  }
  return vcp::Status::Ok();
}

}  // namespace

int main() {
  std::error_code ec;
  std::string templ = (fs::temp_directory_path(ec) / "vcp-example-lease-XXXXXX").string();
  if (ec || ::mkdtemp(templ.data()) == nullptr) {
    std::fprintf(stderr, "no temporary directory for the stores\n");
    return 1;
  }
  const vcp::Status status = RunLease(templ);
  fs::remove_all(templ, ec);
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

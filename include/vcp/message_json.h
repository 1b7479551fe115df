// vcp/message_json.h: protocol messages and multiproof files as JSON text, for `vcp inspect`, `--json` output and
// logs. A message's JSON walks the same field list as its bytes (lib/protocol/message_schema.h), so every field
// on the wire appears in the JSON under one name, in wire order, and a parse error names a field by that name.
//
//   {"type": "epoch-start", "lease_id": "567b...", "epoch": 0, "beacon": "bbbb...", "prev_record": "567b...",
//    "start_us": 1700000000001000, "verifier_signature": "abb8...", "epoch_seed": "93ae..."}
//
// Shape: one object; "type" first (MessageTypeName, or "multiproof"), then the fields in wire order (the magic and
// version are left out), then values derived from the message alone:
//   lease            mode, nonce, verifier_key, provider_key, workload {kind, m, n, k, tile}, devices,
//                    rounds_per_epoch, samples_per_epoch, claimed_ops_per_second_per_device, slack_ppm,
//                    network_allowance_us, start_us, end_us, beacon {genesis_us, period_us, name} (zero and "" in
//                    interactive mode), verifier_signature; derived lease_id, operations_per_device (W = R x 2MNK),
//                    operations_per_epoch (D x W), compute_time_us (t_c), deadline_us,
//                    guaranteed_ops_per_second_per_device (rate / (1 + slack), a JSON float)
//   lease-acceptance lease_id, accepted_us, provider_signature
//   epoch-start      lease_id, epoch, beacon, prev_record, start_us, verifier_signature; derived epoch_seed
//   epoch-record     lease_id, epoch, beacon, prev_record, device_count (D), rounds, epoch_root, operations,
//                    provider_start_us, provider_end_us, devices [{backend, name, uuid, pci_bus_id, memory_bytes,
//                    compute_units, max_clock_khz, max_memory_clock_khz, compute_capability_major,
//                    compute_capability_minor, driver_version, runtime_version}], provider_signature; derived
//                    record_hash
//   challenge        lease_id, epoch, record_hash, randomness, verifier_signature
//   epoch-response   lease_id, epoch, record_hash, challenge {kind, beacon_round, value},
//                    rounds [{round, root, hashes [...]}], epoch_hashes [...], provider_signature
//   verdict          lease_id, epoch, record_hash, schedule, reason, start_us, arrival_us, operations, detail,
//                    verifier_signature; derived verdict ("pass", "fail" or "void": OutcomeOf)
//   multiproof       tree_size, indices [...], hashes [...]
// Hashes, keys and signatures are lower-case hex strings; integers are JSON numbers (times in microseconds since
// the Unix epoch); enums are their names: mode "interactive" | "beacon", workload kind "int8" | "fp32-ordered",
// challenge kind "verifier-randomness" | "beacon", device backend "cpu" | "cuda", schedule "scheduled" |
// "on-demand", reason ReasonName ("pass", "tile-mismatch", "void-clock", ...); a device UUID is 32 hex digits. Text is
// cut to its wire maximum as Serialize cuts it; bytes that are not UTF-8 become U+FFFD.
//
// Text is pretty-printed with a 2-space indent and no trailing newline.
//
// Ownership: values. Thread safety: reentrant. Errors: only MessageJson fails: kCorrupt, naming the message and
// field, for bytes that are no protocol message or multiproof file or do not parse as one. ToJson cannot fail.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "vcp/merkle.h"
#include "vcp/protocol.h"
#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

VCP_EXPORT std::string ToJson(const Lease& m);
VCP_EXPORT std::string ToJson(const LeaseAcceptance& m);
VCP_EXPORT std::string ToJson(const EpochStart& m);
VCP_EXPORT std::string ToJson(const EpochRecord& m);
VCP_EXPORT std::string ToJson(const Challenge& m);
VCP_EXPORT std::string ToJson(const EpochResponse& m);
VCP_EXPORT std::string ToJson(const Verdict& m);
VCP_EXPORT std::string ToJson(const MultiProof& proof);

// Any protocol message, recognised by its magic, or a multiproof file (magic "VCPM", vcp open's proof file):
// parsed, then ToJson's object with "bytes" (the input's length) added and, for a lease, "signature_valid"
// (CheckSignature under its own verifier key) and "parameters_valid" (ValidateLease).
VCP_EXPORT Result<std::string> MessageJson(std::span<const uint8_t> bytes);

}  // namespace vcp

// vcp/protocol.h: the lease protocol's messages, their canonical bytes and signatures, and every value derived
// from them (docs/PROTOCOL.md, protocol version 1).
//
//   verifier                                   provider
//   Lease (signed)                    ---->
//                                     <----    LeaseAcceptance (signed)
//   EpochStart (signed, fresh beacon) ---->    runs R rounds seeded from the beacon
//                                     <----    EpochRecord (signed; epoch root over the R round roots)
//   Challenge (signed randomness)     ---->    (interactive mode; beacon mode uses a public beacon value instead)
//                                     <----    EpochResponse (signed; k sampled tiles: roots and multiproofs)
//   Verdict (signed)
//
// Every message is: 4-byte ASCII magic, u8 protocol version, fixed-width little-endian fields, then (where
// signed) a 64-byte Ed25519 signature over TaggedHash("vcp.v1.sig.<message>", every byte before it).
//
// Ownership: messages are plain values. Thread safety: all functions are reentrant. Errors: parsing returns
// kCorrupt naming the message, the field and what is allowed; signature checks return kRejected naming the key.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vcp/hash.h"
#include "vcp/keys.h"
#include "vcp/status.h"
#include "vcp/workload.h"

namespace vcp {

constexpr uint8_t kProtocolVersion = 1;

enum class LeaseMode : uint8_t { kInteractive = 1, kBeacon = 2 };
std::string_view LeaseModeName(LeaseMode mode);  // "interactive" or "beacon"
Result<LeaseMode> ParseLeaseMode(std::string_view name);

// Soundness policy (docs/PROTOCOL.md section 8). A provider that computed a fraction f of an epoch's tiles passes
// with probability at most f^k in interactive mode, and at most G * f^k in beacon mode when it can try G records
// against a beacon it learned early. The minimums make f = 1/2 pass with probability <= 2^-40 in both modes, with
// a grinding budget of G = 2^40 in beacon mode.
constexpr double kSecurityBits = 40;
constexpr double kGrindingBudgetBits = 40;
constexpr uint32_t kMinSamplesInteractive = 40;
constexpr uint32_t kMinSamplesBeacon = 80;
constexpr uint32_t kMaxSamples = 4096;
constexpr uint32_t kMaxRounds = 1u << 16;
constexpr uint64_t kMaxPositionsPerEpoch = uint64_t{1} << 62;  // R * leaves per round
constexpr size_t kMaxDeviceBytes = 1024;
constexpr size_t kMaxBeaconNameBytes = 255;
constexpr size_t kMaxDetailBytes = 4096;
constexpr uint64_t kMaxMessageBytes = uint64_t{64} << 20;

// Probability that a provider which computed `computed_fraction` of the positions passes one epoch of `samples`
// uniform draws, with `grinding_tries` independent attempts: 1 - (1 - f^k)^G, which is at most G * f^k.
double EpochPassProbability(double computed_fraction, uint32_t samples, double grinding_tries = 1);
// The smallest k with G * f^k <= 2^-security_bits (G = 2^grinding_bits).
uint32_t SamplesNeeded(double computed_fraction, double security_bits, double grinding_bits);
// kMinSamplesInteractive or kMinSamplesBeacon.
uint32_t MinSamples(LeaseMode mode);

// ---------------------------------------------------------------------------------------------------------------
// Messages.

struct Lease {
  LeaseMode mode = LeaseMode::kInteractive;
  Hash32 nonce{};  // fresh verifier randomness: makes every lease id unique
  PublicKey verifier_key{}, provider_key{};
  WorkloadParams workload;         // kind, m, n, k, tile; the seed is not part of the lease (rounds derive their own)
  uint32_t rounds_per_epoch = 0;   // R
  uint32_t samples_per_epoch = 0;  // k
  uint64_t epoch_deadline_us = 0;  // epoch start to record arrival, on the verifier's clock
  uint64_t claimed_ops_per_second = 0;  // the throughput class the provider sells
  uint64_t start_us = 0, end_us = 0;    // the lease period, microseconds since the Unix epoch
  // Beacon mode only (empty / zero in interactive mode): the public beacon source and its round schedule;
  // round r is published at beacon_genesis_us + r * beacon_period_us.
  std::string beacon_name;
  uint64_t beacon_genesis_us = 0, beacon_period_us = 0;
  Signature verifier_signature{};
};

struct LeaseAcceptance {
  Hash32 lease_id{};
  uint64_t accepted_us = 0;  // provider's clock, informative
  Signature provider_signature{};
};

struct EpochStart {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 beacon{};        // fresh verifier randomness: no round seed exists before this message
  Hash32 prev_record{};   // RecordHash of the last record the verifier received, or the lease id for the first
  uint64_t start_us = 0;  // the verifier's clock when it issued the epoch
  Signature verifier_signature{};
};

struct EpochRecord {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 beacon{};
  Hash32 prev_record{};
  uint32_t rounds = 0;
  Hash32 epoch_root{};  // Merkle root over the R round roots (section 6)
  uint64_t operations = 0;
  uint64_t provider_start_us = 0, provider_end_us = 0;  // provider's clock, informative only
  std::string device;  // printable ASCII description of the device that ran the rounds, informative
  Signature provider_signature{};
};

struct Challenge {  // interactive mode
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 record_hash{};
  Hash32 randomness{};
  Signature verifier_signature{};
};

enum class ChallengeKind : uint8_t { kVerifierRandomness = 1, kBeacon = 2 };
std::string_view ChallengeKindName(ChallengeKind kind);  // "verifier-randomness" or "beacon"

// The value sampled positions are drawn from, with where it came from.
struct ChallengeValue {
  ChallengeKind kind = ChallengeKind::kVerifierRandomness;
  uint64_t beacon_round = 0;  // beacon mode only
  Hash32 value{};
};

// One sampled round: its root and the multiproof hashes for its sampled tiles (indices are derived, not sent).
struct RoundOpening {
  uint32_t round = 0;
  Hash32 root{};
  std::vector<Hash32> hashes;
};

struct EpochResponse {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 record_hash{};
  ChallengeValue challenge;
  std::vector<RoundOpening> rounds;  // strictly increasing round indices
  std::vector<Hash32> epoch_hashes;  // multiproof of those rounds' roots in the epoch tree
  Signature provider_signature{};    // makes every failure attributable to the provider
};

// Why an epoch failed; kPass when it did not. Codes are part of the verdict message and never renumbered.
enum class Reason : uint16_t {
  kPass = 0,
  kMissed = 1,           // no record arrived before the next epoch started
  kMalformedRecord = 2,  // record bytes did not parse
  kWrongLease = 3,       // record or response bound to another lease
  kBadSignature = 4,     // record or response not signed by the lease's provider key
  kWrongEpoch = 5,       // record for another epoch index (replay)
  kWrongBeacon = 6,      // record names a beacon other than this epoch's
  kBrokenChain = 7,      // previous-record hash is not the last record the verifier received
  kWrongParameters = 8,  // rounds or operations differ from the lease
  kLate = 9,             // record arrived after the deadline (verifier's clock)
  kNoResponse = 10,      // record arrived but no response before the epoch closed
  kMalformedResponse = 11,
  kResponseMismatch = 12,  // response names another epoch or record
  kWrongChallenge = 13,    // response answers a challenge or beacon value other than the verifier's
  kWrongSamples = 14,      // opened rounds differ from the derived sample
  kBadProof = 15,          // a multiproof has the wrong number of hashes
  kTileMismatch = 16,      // tiles recomputed from the seed, with the proof, do not give the round root
  kBadEpochProof = 17,     // round roots do not hash to the epoch root
};
std::string_view ReasonName(Reason reason);  // "tile-mismatch"
bool IsKnownReason(uint16_t code);

struct Verdict {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 record_hash{};  // zero when no record arrived
  Reason reason = Reason::kPass;
  uint64_t start_us = 0;    // verifier's clock: epoch issued
  uint64_t arrival_us = 0;  // verifier's clock: record arrived (0 when none did)
  uint64_t operations = 0;  // proven operations: the record's when passed, else 0
  std::string detail;       // human-readable explanation
  Signature verifier_signature{};
};

// Text fields (device, beacon name, verdict detail) are printable ASCII: this replaces any other byte with '?'
// and cuts the text to max_bytes.
std::string ToProtocolText(std::string_view text, size_t max_bytes);

// ---------------------------------------------------------------------------------------------------------------
// Canonical bytes. Serialize writes the whole message including its signature field; Parse rejects wrong magic,
// version, out-of-range enums and lengths, and trailing bytes, naming the message and the field as vcp inspect's
// JSON names it ("lease: workload.kind 9 is unknown; allowed: 1 (int8), 2 (fp32-ordered)"). Each message's fields
// are listed once (lib/protocol/message_schema.h); Serialize, Parse and ToJson (vcp/message_json.h) follow it.

enum class MessageType { kLease, kAcceptance, kEpochStart, kRecord, kChallenge, kResponse, kVerdict };
std::string_view MessageTypeName(MessageType type);  // "lease", "lease-acceptance", ...
// Identifies a message by its magic (no other validation).
Result<MessageType> IdentifyMessage(std::span<const uint8_t> bytes);

std::vector<uint8_t> Serialize(const Lease& m);
std::vector<uint8_t> Serialize(const LeaseAcceptance& m);
std::vector<uint8_t> Serialize(const EpochStart& m);
std::vector<uint8_t> Serialize(const EpochRecord& m);
std::vector<uint8_t> Serialize(const Challenge& m);
std::vector<uint8_t> Serialize(const EpochResponse& m);
std::vector<uint8_t> Serialize(const Verdict& m);

Result<Lease> ParseLease(std::span<const uint8_t> bytes);
Result<LeaseAcceptance> ParseLeaseAcceptance(std::span<const uint8_t> bytes);
Result<EpochStart> ParseEpochStart(std::span<const uint8_t> bytes);
Result<EpochRecord> ParseEpochRecord(std::span<const uint8_t> bytes);
Result<Challenge> ParseChallenge(std::span<const uint8_t> bytes);
Result<EpochResponse> ParseEpochResponse(std::span<const uint8_t> bytes);
Result<Verdict> ParseVerdict(std::span<const uint8_t> bytes);

// Signing: each signs TaggedHash("vcp.v1.sig.<message>", Serialize(m) without its trailing 64 signature bytes),
// after checking that `key` is the key the message must be signed with where the message names it (Lease:
// verifier_key). Check* verifies against the given key (kRejected naming the key on failure).
[[nodiscard]] Status Sign(Lease& m, const SecretKey& key);
[[nodiscard]] Status Sign(LeaseAcceptance& m, const SecretKey& key);
[[nodiscard]] Status Sign(EpochStart& m, const SecretKey& key);
[[nodiscard]] Status Sign(EpochRecord& m, const SecretKey& key);
[[nodiscard]] Status Sign(Challenge& m, const SecretKey& key);
[[nodiscard]] Status Sign(EpochResponse& m, const SecretKey& key);
[[nodiscard]] Status Sign(Verdict& m, const SecretKey& key);
[[nodiscard]] Status CheckSignature(const Lease& m);  // by m.verifier_key
[[nodiscard]] Status CheckSignature(const LeaseAcceptance& m, const PublicKey& provider_key);
[[nodiscard]] Status CheckSignature(const EpochStart& m, const PublicKey& verifier_key);
[[nodiscard]] Status CheckSignature(const EpochRecord& m, const PublicKey& provider_key);
[[nodiscard]] Status CheckSignature(const Challenge& m, const PublicKey& verifier_key);
[[nodiscard]] Status CheckSignature(const EpochResponse& m, const PublicKey& provider_key);
[[nodiscard]] Status CheckSignature(const Verdict& m, const PublicKey& verifier_key);

// Lease parameters the library accepts: a valid workload, 1 <= R <= kMaxRounds, MinSamples(mode) <= k <=
// kMaxSamples, R * leaves <= kMaxPositionsPerEpoch, a nonzero deadline and claimed rate, start < end, and the
// beacon fields present exactly in beacon mode.
[[nodiscard]] Status ValidateLease(const Lease& lease);

// ---------------------------------------------------------------------------------------------------------------
// Derived values (docs/PROTOCOL.md section 5). Every one is a TaggedHash over fixed-width fields.

// TaggedHash("vcp.v1.lease-id", Serialize(lease) without the signature).
Hash32 LeaseId(const Lease& lease);
// TaggedHash("vcp.v1.record-hash", Serialize(record) without the signature): names the record in the chain, the
// challenge and the response.
Hash32 RecordHash(const EpochRecord& record);
// TaggedHash("vcp.v1.epoch-seed", lease id || u64 epoch || beacon || prev record).
Seed EpochSeed(const Hash32& lease_id, uint64_t epoch, const Hash32& beacon, const Hash32& prev_record);
// TaggedHash("vcp.v1.round-seed", epoch seed || u32 round).
Seed RoundSeed(const Seed& epoch_seed, uint32_t round);
// The lease workload with seed = RoundSeed(EpochSeed(...start...), round).
WorkloadParams RoundWorkload(const Lease& lease, const EpochStart& start, uint32_t round);
// Tiles per round of the lease's workload.
uint64_t LeavesPerRound(const Lease& lease);
// 2 * M * N * K * R.
uint64_t EpochOperations(const Lease& lease);
// Epoch-tree leaf for a round root: RFC 6962 leaf hash of the 32 root bytes.
Hash32 EpochTreeLeaf(const Hash32& round_root);
// Root of the epoch tree over round roots (in round order).
Hash32 EpochRoot(std::span<const Hash32> round_roots);

// Beacon mode: the first beacon round published at or after the epoch's deadline, start_us + deadline.
uint64_t BeaconRoundFor(const Lease& lease, uint64_t epoch_start_us);

struct SamplePosition {
  uint32_t round = 0;
  uint64_t tile = 0;
};
// k positions drawn uniformly (with replacement) from the R x leaves positions of an epoch, by rejection
// sampling on TaggedHash("vcp.v1.sample", record hash || challenge || u32 draw || u32 attempt). In draw order.
std::vector<SamplePosition> SamplePositions(const Hash32& record_hash, const Hash32& challenge, uint32_t rounds,
                                            uint64_t leaves_per_round, uint32_t samples);
// The positions grouped by round: rounds strictly increasing, each round's tiles strictly increasing.
struct SampleSet {
  std::vector<uint32_t> rounds;
  std::vector<std::vector<uint64_t>> tiles;  // tiles[i] belong to rounds[i]
};
SampleSet GroupSamples(std::span<const SamplePosition> positions);

// Number of hashes a multiproof of `indices` (strictly increasing, < tree_size) carries: one per maximal subtree
// that holds no opened leaf.
uint64_t MultiProofHashCount(uint64_t tree_size, std::span<const uint64_t> indices);

}  // namespace vcp

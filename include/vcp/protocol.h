// vcp/protocol.h: the lease protocol's messages, their canonical bytes and signatures, and every value derived
// from them (docs/PROTOCOL.md, protocol version 2).
//
//   verifier                                   provider
//   Lease (signed; D devices, R rounds, rate)  ---->
//                                     <----    LeaseAcceptance (signed)
//   EpochStart (signed, fresh beacon) ---->    runs R rounds on each of the D devices, seeded from the beacon
//                                     <----    EpochRecord (signed; epoch root over the D x R round roots,
//                                              device evidence)
//   Challenge (signed randomness)     ---->    (interactive mode; beacon mode uses a public beacon value instead)
//                                     <----    EpochResponse (signed; k sampled tiles: roots and multiproofs)
//   Verdict (signed)
//
// Every message is: 4-byte ASCII magic, u8 protocol version, fixed-width little-endian fields, then (where
// signed) a 64-byte Ed25519 signature over TaggedHash("vcp.v2.sig.<message>", every byte before it).
//
// Epoch rounds: an epoch has D x R rounds, numbered device-major: epoch round q = d x R + r is round r of device d.
// Every `round` below (SamplePosition, RoundOpening, the epoch tree's leaves) is an epoch round q.
//
// Ownership: messages are plain values. Thread safety: all functions are reentrant. Errors: parsing returns
// kCorrupt naming the message, the field and what is allowed; signature checks return kRejected naming the key.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vcp/hash.h"
#include "vcp/keys.h"
#include "vcp/status.h"
#include "vcp/workload.h"
#include "vcp/export.h"

namespace vcp {

constexpr uint8_t kProtocolVersion = 2;

enum class LeaseMode : uint8_t { kInteractive = 1, kBeacon = 2 };
VCP_EXPORT std::string_view LeaseModeName(LeaseMode mode);  // "interactive" or "beacon"
VCP_EXPORT Result<LeaseMode> ParseLeaseMode(std::string_view name);

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
constexpr uint64_t kMaxPositionsPerEpoch = uint64_t{1} << 62;  // D x R x leaves per round
constexpr uint32_t kMaxDevices = 16;                            // D: devices one lease names
// The deadline is the compute time at the claimed rate plus `slack` of it (section 5). The slack bounds how far
// below the claimed rate a passing provider may be: it proves at least rate / (1 + slack). 1.0 proves half.
constexpr uint32_t kDefaultSlackPpm = 250000;  // 0.25
constexpr uint32_t kMaxSlackPpm = 1000000;     // 1.0
constexpr uint64_t kMinComputeUs = 1000;       // an epoch shorter than 1 ms at the claimed rate is too short to time
constexpr size_t kMaxDeviceNameBytes = 255;
constexpr size_t kMaxPciBusIdBytes = 32;
constexpr size_t kMaxBeaconNameBytes = 255;
constexpr size_t kMaxDetailBytes = 4096;
constexpr uint64_t kMaxMessageBytes = uint64_t{64} << 20;
// Time bounds (docs/PROTOCOL.md section 5.2), chosen so that no sum or product of protocol times can wrap: every
// time since the Unix epoch is at most 2^53 us (the year 2255; exact in a double), every span (the epoch deadline,
// so the compute time and the network allowance, and the beacon period) at most 2^40 us (12.7 days). The largest
// sum, an epoch start (before the lease end) + deadline + beacon period, and the largest product, beacon round x
// period (at most start + deadline - genesis + period), stay below 2^55.
constexpr uint64_t kMaxTimeUs = uint64_t{1} << 53;            // lease start and end, beacon genesis
constexpr uint64_t kMaxDeadlineUs = uint64_t{1} << 40;        // EpochDeadlineUs (and so t_c and the allowance)
constexpr uint64_t kMaxBeaconPeriodUs = uint64_t{1} << 40;    // beacon period

// Probability that a provider which computed `computed_fraction` of the positions passes one epoch of `samples`
// uniform draws, with `grinding_tries` independent attempts: 1 - (1 - f^k)^G, which is at most G * f^k.
VCP_EXPORT double EpochPassProbability(double computed_fraction, uint32_t samples, double grinding_tries = 1);
// The smallest k with G * f^k <= 2^-security_bits (G = 2^grinding_bits); 2^32 - 1 when no u32 is enough.
VCP_EXPORT uint32_t SamplesNeeded(double computed_fraction, double security_bits, double grinding_bits);
// kMinSamplesInteractive or kMinSamplesBeacon.
VCP_EXPORT uint32_t MinSamples(LeaseMode mode);

// ---------------------------------------------------------------------------------------------------------------
// Messages.

// The epoch deadline is not a field: it follows from the rate, R, the workload and the slack (EpochDeadlineUs).
struct VCP_EXPORT Lease {
  LeaseMode mode = LeaseMode::kInteractive;
  Hash32 nonce{};  // fresh verifier randomness: makes every lease id unique
  PublicKey verifier_key{}, provider_key{};
  WorkloadParams workload;         // kind, m, n, k, tile; the seed is not part of the lease (rounds derive their own)
  uint8_t devices = 1;             // D: devices that each run R rounds per epoch, 1..kMaxDevices
  uint32_t rounds_per_epoch = 0;   // R: rounds per device per epoch
  uint32_t samples_per_epoch = 0;  // k
  uint64_t claimed_ops_per_second_per_device = 0;  // the throughput class the provider sells, per device
  uint32_t slack_ppm = kDefaultSlackPpm;           // deadline margin over the compute time, parts per million
  uint64_t network_allowance_us = 0;  // the part of the slack margin promised to the network round trip, us
  uint64_t start_us = 0, end_us = 0;  // the lease period, microseconds since the Unix epoch
  // Beacon mode only (empty / zero in interactive mode): the public beacon source and its round schedule;
  // round r is published at beacon_genesis_us + r * beacon_period_us.
  std::string beacon_name;
  uint64_t beacon_genesis_us = 0, beacon_period_us = 0;
  Signature verifier_signature{};
};

struct VCP_EXPORT LeaseAcceptance {
  Hash32 lease_id{};
  uint64_t accepted_us = 0;  // provider's clock, informative
  Signature provider_signature{};
};

struct VCP_EXPORT EpochStart {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 beacon{};        // fresh verifier randomness: no round seed exists before this message
  Hash32 prev_record{};   // RecordHash of the last record the verifier received, or the lease id for the first
  uint64_t start_us = 0;  // the verifier's clock when it issued the epoch
  Signature verifier_signature{};
};

enum class DeviceBackend : uint8_t { kCpu = 1, kCuda = 2 };
VCP_EXPORT std::string_view DeviceBackendName(DeviceBackend backend);  // "cpu" or "cuda"

// What the backend reads about one device (section 4.4). Signed but informative: the provider could lie; only the
// deadline proves throughput. Text is printable ASCII.
struct VCP_EXPORT DeviceEvidence {
  DeviceBackend backend = DeviceBackend::kCpu;
  std::string name;                // CPU model or GPU name, at most kMaxDeviceNameBytes
  std::array<uint8_t, 16> uuid{};  // all zero when the backend has none (CPU)
  std::string pci_bus_id;          // "0000:1b:00.0", at most kMaxPciBusIdBytes, no spaces; empty for CPU
  uint64_t memory_bytes = 0;       // GPU global memory; CPU: 0
  uint32_t compute_units = 0;      // SM count; CPU: threads given to this device
  uint32_t max_clock_khz = 0, max_memory_clock_khz = 0;  // 0 when unknown
  uint8_t compute_capability_major = 0, compute_capability_minor = 0;  // 0.0 for CPU
  uint32_t driver_version = 0, runtime_version = 0;  // CUDA's integers (12040 = 12.4); 0 for CPU
};
// One line for reports: "cuda: NVIDIA H200 (132 SMs, 139 GiB, cc 9.0) uuid GPU-xxxxxxxx-... pci 0000:1b:00.0",
// "cpu: AMD EPYC 7B13 (2 threads)".
VCP_EXPORT std::string DescribeDevice(const DeviceEvidence& device);
// Whether two records name the same devices in the same order: backend, name, UUID and PCI bus id of each entry
// (clocks, memory and versions may change between epochs without a different device).
VCP_EXPORT bool SameDeviceSet(std::span<const DeviceEvidence> a, std::span<const DeviceEvidence> b);

struct VCP_EXPORT EpochRecord {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 beacon{};
  Hash32 prev_record{};
  uint32_t rounds = 0;  // R, per device
  Hash32 epoch_root{};  // Merkle root over the D x R round roots in epoch-round order (section 6)
  uint64_t operations = 0;  // D x R x 2MNK
  uint64_t provider_start_us = 0, provider_end_us = 0;  // provider's clock, informative only
  std::vector<DeviceEvidence> devices;  // D entries (1..kMaxDevices; the wire's D is its size), device order
  Signature provider_signature{};
};

struct VCP_EXPORT Challenge {  // interactive mode
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 record_hash{};
  Hash32 randomness{};
  Signature verifier_signature{};
};

enum class ChallengeKind : uint8_t { kVerifierRandomness = 1, kBeacon = 2 };
VCP_EXPORT std::string_view ChallengeKindName(ChallengeKind kind);  // "verifier-randomness" or "beacon"

// The value sampled positions are drawn from, with where it came from.
struct VCP_EXPORT ChallengeValue {
  ChallengeKind kind = ChallengeKind::kVerifierRandomness;
  uint64_t beacon_round = 0;  // beacon mode only
  Hash32 value{};
};

// One sampled round: its root and the multiproof hashes for its sampled tiles (indices are derived, not sent).
struct VCP_EXPORT RoundOpening {
  uint32_t round = 0;
  Hash32 root{};
  std::vector<Hash32> hashes;
};

struct VCP_EXPORT EpochResponse {
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
  // Void: the verifier could not run or time the epoch itself; neither a pass nor the provider's failure.
  kVoidVerifierDown = 18,       // the verifier was not running to time the record over the deadline
  kVoidClock = 19,              // the verifier's clock went backwards: arrival < start
  kVoidBeaconUnavailable = 20,  // the beacon round never came
};
VCP_EXPORT std::string_view ReasonName(Reason reason);  // "tile-mismatch", "void-clock"
VCP_EXPORT bool IsKnownReason(uint16_t code);

// A verdict is a pass, the provider's failure (every reason 1..17; `missed` counts as zero delivered time), or
// void (18..20).
enum class VerdictOutcome { kPass, kFail, kVoid };
VCP_EXPORT VerdictOutcome OutcomeOf(Reason reason);
VCP_EXPORT std::string_view VerdictOutcomeName(VerdictOutcome outcome);  // "pass", "fail", "void"

// Whether the verifier started an epoch at a time of its secret audit schedule, or on demand. Only scheduled
// epochs enter the availability bound: on-demand starts are not at random times.
enum class EpochSchedule : uint8_t { kScheduled = 1, kOnDemand = 2 };
VCP_EXPORT std::string_view EpochScheduleName(EpochSchedule schedule);  // "scheduled" or "on-demand"
VCP_EXPORT Result<EpochSchedule> ParseEpochSchedule(std::string_view name);

struct VCP_EXPORT Verdict {
  Hash32 lease_id{};
  uint64_t epoch = 0;
  Hash32 record_hash{};  // zero when no record arrived
  EpochSchedule schedule = EpochSchedule::kOnDemand;
  Reason reason = Reason::kPass;
  uint64_t start_us = 0;    // verifier's clock: epoch issued
  uint64_t arrival_us = 0;  // verifier's clock: record arrived (0 when none did)
  uint64_t operations = 0;  // proven operations: the record's when passed, else 0
  std::string detail;       // human-readable explanation
  Signature verifier_signature{};
};

// Text fields (device name and PCI bus id, beacon name, verdict detail) are printable ASCII: this replaces any other
// byte with '?'
// and cuts the text to max_bytes.
VCP_EXPORT std::string ToProtocolText(std::string_view text, size_t max_bytes);

// ---------------------------------------------------------------------------------------------------------------
// Canonical bytes. Serialize writes the whole message including its signature field; Parse rejects wrong magic,
// version, out-of-range enums and lengths, and trailing bytes, naming the message and the field as vcp inspect's
// JSON names it ("lease: workload.kind 9 is unknown; allowed: 1 (int8), 2 (fp32-ordered)"). Each message's fields
// are listed once (lib/protocol/message_schema.h); Serialize, Parse and ToJson (vcp/message_json.h) follow it.

enum class MessageType { kLease, kAcceptance, kEpochStart, kRecord, kChallenge, kResponse, kVerdict };
VCP_EXPORT std::string_view MessageTypeName(MessageType type);  // "lease", "lease-acceptance", ...
// Identifies a message by its magic (no other validation).
VCP_EXPORT Result<MessageType> IdentifyMessage(std::span<const uint8_t> bytes);

VCP_EXPORT std::vector<uint8_t> Serialize(const Lease& m);
VCP_EXPORT std::vector<uint8_t> Serialize(const LeaseAcceptance& m);
VCP_EXPORT std::vector<uint8_t> Serialize(const EpochStart& m);
VCP_EXPORT std::vector<uint8_t> Serialize(const EpochRecord& m);
VCP_EXPORT std::vector<uint8_t> Serialize(const Challenge& m);
VCP_EXPORT std::vector<uint8_t> Serialize(const EpochResponse& m);
VCP_EXPORT std::vector<uint8_t> Serialize(const Verdict& m);

// ParseLease also refuses (kCorrupt) a lease whose time fields are outside ValidateLeaseTimes' bounds.
VCP_EXPORT Result<Lease> ParseLease(std::span<const uint8_t> bytes);
VCP_EXPORT Result<LeaseAcceptance> ParseLeaseAcceptance(std::span<const uint8_t> bytes);
VCP_EXPORT Result<EpochStart> ParseEpochStart(std::span<const uint8_t> bytes);
VCP_EXPORT Result<EpochRecord> ParseEpochRecord(std::span<const uint8_t> bytes);
VCP_EXPORT Result<Challenge> ParseChallenge(std::span<const uint8_t> bytes);
VCP_EXPORT Result<EpochResponse> ParseEpochResponse(std::span<const uint8_t> bytes);
VCP_EXPORT Result<Verdict> ParseVerdict(std::span<const uint8_t> bytes);

// Signing: each signs TaggedHash("vcp.v2.sig.<message>", Serialize(m) without its trailing 64 signature bytes),
// after checking that `key` is the key the message must be signed with where the message names it (Lease:
// verifier_key). Check* verifies against the given key (kRejected naming the key on failure).
[[nodiscard]] VCP_EXPORT Status Sign(Lease& m, const SecretKey& key);
[[nodiscard]] VCP_EXPORT Status Sign(LeaseAcceptance& m, const SecretKey& key);
[[nodiscard]] VCP_EXPORT Status Sign(EpochStart& m, const SecretKey& key);
[[nodiscard]] VCP_EXPORT Status Sign(EpochRecord& m, const SecretKey& key);
[[nodiscard]] VCP_EXPORT Status Sign(Challenge& m, const SecretKey& key);
[[nodiscard]] VCP_EXPORT Status Sign(EpochResponse& m, const SecretKey& key);
[[nodiscard]] VCP_EXPORT Status Sign(Verdict& m, const SecretKey& key);
[[nodiscard]] VCP_EXPORT Status CheckSignature(const Lease& m);  // by m.verifier_key
[[nodiscard]] VCP_EXPORT Status CheckSignature(const LeaseAcceptance& m, const PublicKey& provider_key);
[[nodiscard]] VCP_EXPORT Status CheckSignature(const EpochStart& m, const PublicKey& verifier_key);
[[nodiscard]] VCP_EXPORT Status CheckSignature(const EpochRecord& m, const PublicKey& provider_key);
[[nodiscard]] VCP_EXPORT Status CheckSignature(const Challenge& m, const PublicKey& verifier_key);
[[nodiscard]] VCP_EXPORT Status CheckSignature(const EpochResponse& m, const PublicKey& provider_key);
[[nodiscard]] VCP_EXPORT Status CheckSignature(const Verdict& m, const PublicKey& verifier_key);

// Lease terms the library accepts (kInvalidArgument naming the term and what is allowed otherwise): a valid
// workload; 1 <= D <= kMaxDevices; 1 <= R <= kMaxRounds; MinSamples(mode) <= k <= kMaxSamples (D x R x leaves
// then stays within kMaxPositionsPerEpoch by the limits alone); D x R x 2MNK < 2^64; a nonzero claimed rate;
// slack <= kMaxSlackPpm; compute time t_c >= kMinComputeUs; deadline <= kMaxDeadlineUs; 2 x allowance <= deadline -
// t_c (the network allowance fits in half the slack margin, so an honest provider at exactly the claimed rate keeps
// the other half for jitter); start < end; keys differ; the beacon fields present exactly in beacon mode; and
// ValidateLeaseTimes.
[[nodiscard]] VCP_EXPORT Status ValidateLease(const Lease& lease);
// The time fields' bounds alone, which ParseLease also enforces (a lease outside them is not a lease): start, end
// and beacon genesis <= kMaxTimeUs, beacon period <= kMaxBeaconPeriodUs, network allowance <= kMaxDeadlineUs.
// kInvalidArgument naming the field, its value and the bound.
[[nodiscard]] VCP_EXPORT Status ValidateLeaseTimes(const Lease& lease);

// ---------------------------------------------------------------------------------------------------------------
// Derived values (docs/PROTOCOL.md section 5). Every one is a TaggedHash over fixed-width fields.

// TaggedHash("vcp.v2.lease-id", Serialize(lease) without the signature).
VCP_EXPORT Hash32 LeaseId(const Lease& lease);
// TaggedHash("vcp.v2.record-hash", Serialize(record) without the signature): names the record in the chain, the
// challenge and the response.
VCP_EXPORT Hash32 RecordHash(const EpochRecord& record);
// TaggedHash("vcp.v2.epoch-seed", lease id || u64 epoch || beacon || prev record).
VCP_EXPORT Seed EpochSeed(const Hash32& lease_id, uint64_t epoch, const Hash32& beacon, const Hash32& prev_record);
// TaggedHash("vcp.v2.round-seed", epoch seed || u32 device || u32 round): round r of device d.
VCP_EXPORT Seed RoundSeed(const Seed& epoch_seed, uint32_t device, uint32_t round);
// D x R: the rounds of one epoch, and the leaves of its epoch tree.
VCP_EXPORT uint32_t EpochRounds(const Lease& lease);
// q = d x R + r, the epoch round of device d's round r (device-major).
VCP_EXPORT uint32_t EpochRound(const Lease& lease, uint32_t device, uint32_t round);
// The lease workload of epoch round q (device q div R, its round q mod R): seed = RoundSeed(EpochSeed(...start...),
// q div R, q mod R).
VCP_EXPORT WorkloadParams RoundWorkload(const Lease& lease, const EpochStart& start, uint32_t epoch_round);
// Tiles per round of the lease's workload.
VCP_EXPORT uint64_t LeavesPerRound(const Lease& lease);

// The deadline and what it proves (section 5). All integer arithmetic with 128-bit intermediates; defined for a
// lease ValidateLease accepts (values that do not fit saturate at 2^64 - 1; a zero rate gives 2^64 - 1).
//   W        = DeviceOperations = R x 2MNK                  operations per device per epoch
//   D x W    = EpochOperations
//   t_c      = ComputeTimeUs    = floor(W x 10^6 / rate)    microseconds
//   deadline = EpochDeadlineUs  = t_c + floor(t_c x slack_ppm / 10^6)   microseconds, start to record arrival
// Both floors round down, so deadline <= (W / rate)(1 + slack): an epoch whose record arrives within the deadline
// on the verifier's clock proves D x W operations in at most that time, at least rate / (1 + slack) per device.
VCP_EXPORT uint64_t DeviceOperations(const Lease& lease);
VCP_EXPORT uint64_t EpochOperations(const Lease& lease);
VCP_EXPORT uint64_t ComputeTimeUs(const Lease& lease);
VCP_EXPORT uint64_t EpochDeadlineUs(const Lease& lease);
// rate / (1 + slack_ppm / 10^6), operations per second per device: what a passing epoch proves.
VCP_EXPORT double GuaranteedRatePerDevice(const Lease& lease);
// Epoch-tree leaf for a round root: RFC 6962 leaf hash of the 32 root bytes.
VCP_EXPORT Hash32 EpochTreeLeaf(const Hash32& round_root);
// Root of the epoch tree over the D x R round roots (in epoch-round order).
VCP_EXPORT Hash32 EpochRoot(std::span<const Hash32> round_roots);

// The one timing rule (section 9): a record is on time iff arrival_us - start_us <= EpochDeadlineUs(lease), so
// the latest on-time arrival is start_us + deadline itself. False when arrival_us < start_us (void-clock, which
// the caller tells apart).
VCP_EXPORT bool RecordOnTime(const Lease& lease, uint64_t epoch_start_us, uint64_t arrival_us);
// Beacon mode: the first beacon round published strictly after the latest on-time arrival, start_us +
// EpochDeadlineUs: 0 when start + deadline < genesis, else floor((start + deadline - genesis) / period) + 1
// (exact in 128 bits). A round published exactly at the deadline is never the one used.
VCP_EXPORT uint64_t BeaconRoundFor(const Lease& lease, uint64_t epoch_start_us);

struct VCP_EXPORT SamplePosition {
  uint32_t round = 0;  // epoch round q
  uint64_t tile = 0;
};
// One draw: its position and the attempt that was accepted (0 unless rejection sampling rejected a value).
struct VCP_EXPORT SampleDraw {
  SamplePosition position;
  uint32_t attempt = 0;
};
// Draw `draw` of an epoch with P = epoch_rounds x leaves_per_round positions: the first attempt a = 0, 1, ...
// whose x = the first 8 bytes (little-endian) of TaggedHash("vcp.v2.sample", record hash || challenge || u32 draw
// || u32 a) is below the largest multiple of P that fits in 2^64; position x mod P, tile p mod L of epoch round
// p div L. epoch_rounds x leaves_per_round must be positive (ValidateLease).
VCP_EXPORT SampleDraw DrawSample(const Hash32& record_hash, const Hash32& challenge, uint32_t epoch_rounds,
                                 uint64_t leaves_per_round, uint32_t draw);
// k positions drawn uniformly (with replacement) from the D x R x L positions of an epoch: DrawSample for draws
// 0..k (exclusive end), in draw order. epoch_rounds = EpochRounds(lease).
VCP_EXPORT std::vector<SamplePosition> SamplePositions(const Hash32& record_hash, const Hash32& challenge,
                                                       uint32_t epoch_rounds, uint64_t leaves_per_round,
                                                       uint32_t samples);
// The positions grouped by round: rounds strictly increasing, each round's tiles strictly increasing.
struct VCP_EXPORT SampleSet {
  std::vector<uint32_t> rounds;
  std::vector<std::vector<uint64_t>> tiles;  // tiles[i] belong to rounds[i]
};
VCP_EXPORT SampleSet GroupSamples(std::span<const SamplePosition> positions);

// Number of hashes a multiproof of `indices` (strictly increasing, < tree_size) carries: one per maximal subtree
// that holds no opened leaf.
VCP_EXPORT uint64_t MultiProofHashCount(uint64_t tree_size, std::span<const uint64_t> indices);

}  // namespace vcp

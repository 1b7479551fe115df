// Canonical bytes, parsing and signatures of the lease protocol's messages (docs/PROTOCOL.md section 4).
#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "vcp/bytes.h"
#include "vcp/protocol.h"

namespace vcp {

namespace {

constexpr std::string_view kLeaseMagic = "VCPL";
constexpr std::string_view kAcceptanceMagic = "VCPA";
constexpr std::string_view kStartMagic = "VCPS";
constexpr std::string_view kRecordMagic = "VCPR";
constexpr std::string_view kChallengeMagic = "VCPC";
constexpr std::string_view kResponseMagic = "VCPP";
constexpr std::string_view kVerdictMagic = "VCPV";

struct MessageInfo {
  MessageType type;
  std::string_view magic;
  std::string_view name;     // in error messages and vcp inspect
  std::string_view sig_tag;  // TaggedHash tag of the signed digest
};

constexpr std::array<MessageInfo, 7> kMessages = {{
    {MessageType::kLease, kLeaseMagic, "lease", "vcp.v1.sig.lease"},
    {MessageType::kAcceptance, kAcceptanceMagic, "lease-acceptance", "vcp.v1.sig.lease-acceptance"},
    {MessageType::kEpochStart, kStartMagic, "epoch-start", "vcp.v1.sig.epoch-start"},
    {MessageType::kRecord, kRecordMagic, "epoch-record", "vcp.v1.sig.epoch-record"},
    {MessageType::kChallenge, kChallengeMagic, "challenge", "vcp.v1.sig.challenge"},
    {MessageType::kResponse, kResponseMagic, "epoch-response", "vcp.v1.sig.epoch-response"},
    {MessageType::kVerdict, kVerdictMagic, "verdict", "vcp.v1.sig.verdict"},
}};

const MessageInfo& Info(MessageType type) {
  for (const auto& info : kMessages) {
    if (info.type == type) return info;
  }
  return kMessages[0];  // unreachable: every MessageType is in the table
}

void Header(ByteWriter& w, MessageType type) {
  w.Text(Info(type).magic);
  w.U8(kProtocolVersion);
}

// Magic and version, with messages that name what the bytes are instead when they are another vcp message.
Status ReadHeader(ByteReader& r, std::span<const uint8_t> bytes, MessageType type) {
  const MessageInfo& info = Info(type);
  if (bytes.size() < 5) {
    return Status::Corrupt(std::string(info.name) + ": " + std::to_string(bytes.size()) +
                           " bytes is too short for the 5-byte header (magic \"" + std::string(info.magic) +
                           "\", version)");
  }
  const std::string_view magic(reinterpret_cast<const char*>(bytes.data()), 4);
  if (magic != info.magic) {
    std::string what = "not a vcp protocol message";
    for (const auto& other : kMessages) {
      if (other.magic == magic) what = "a " + std::string(other.name) + " message";
    }
    return Status::Corrupt(std::string(info.name) + ": wrong magic (found " + what + "); expected magic \"" +
                           std::string(info.magic) + "\"");
  }
  uint8_t version = 0;
  std::array<uint8_t, 4> skip{};
  VCP_RETURN_IF_ERROR(r.Bytes(skip));
  VCP_RETURN_IF_ERROR(r.U8(version));
  if (version != kProtocolVersion) {
    return Status::Corrupt(std::string(info.name) + ": protocol version " + std::to_string(version) +
                           " is not supported; this build reads version " + std::to_string(kProtocolVersion));
  }
  return Status::Ok();
}

Status ReadHash(ByteReader& r, Hash32& h) { return r.Bytes(h); }
Status ReadSig(ByteReader& r, Signature& s) { return r.Bytes(s); }

// Text fields are printable ASCII so every message renders unambiguously in logs and JSON.
bool Printable(std::string_view s, bool allow_space) {
  return std::all_of(s.begin(), s.end(), [allow_space](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u > 0x20 && u < 0x7f) || (allow_space && u == 0x20);
  });
}

Status ReadText(ByteReader& r, size_t length, size_t max, bool allow_space, std::string_view message,
                std::string_view field, std::string& out) {
  if (length > max) {
    return Status::Corrupt(std::string(message) + ": " + std::string(field) + " is " + std::to_string(length) +
                           " bytes; at most " + std::to_string(max) + " are allowed");
  }
  std::string text(length, '\0');
  VCP_RETURN_IF_ERROR(r.Bytes(std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), length)));
  if (!Printable(text, allow_space)) {
    return Status::Corrupt(std::string(message) + ": " + std::string(field) + " must be printable ASCII" +
                           (allow_space ? "" : " without spaces"));
  }
  out = std::move(text);
  return Status::Ok();
}

Status Trailing(const ByteReader& r, MessageType type) {
  if (r.remaining() != 0) {
    return Status::Corrupt(std::string(Info(type).name) + ": " + std::to_string(r.remaining()) +
                           " trailing bytes after the signature at offset " + std::to_string(r.offset()) +
                           "; a message ends with its signature");
  }
  return Status::Ok();
}

// The digest a message's signature covers: everything before the 64 signature bytes.
Hash32 SigningDigest(MessageType type, const std::vector<uint8_t>& serialized) {
  return TaggedHash(Info(type).sig_tag,
                    std::span<const uint8_t>(serialized.data(), serialized.size() - kSignatureBytes));
}

template <typename M>
Signature SignMessage(MessageType type, const M& m, const SecretKey& key) {
  const Hash32 digest = SigningDigest(type, Serialize(m));
  return key.Sign(digest);
}

template <typename M>
Status CheckMessage(MessageType type, const M& m, const Signature& sig, const PublicKey& key, std::string_view who) {
  const Hash32 digest = SigningDigest(type, Serialize(m));
  const Status s = VerifySignature(key, digest, sig);
  if (!s.ok()) {
    return Status::Rejected(std::string(Info(type).name) + ": signature does not verify under the " + std::string(who) +
                            " key " + ToHex(key));
  }
  return Status::Ok();
}

void WriteWorkload(ByteWriter& w, const WorkloadParams& p) {
  w.U8(static_cast<uint8_t>(p.kind));
  w.U32(p.m);
  w.U32(p.n);
  w.U32(p.k);
  w.U32(p.tile);
}

Status ReadWorkload(ByteReader& r, WorkloadParams& p) {
  uint8_t kind = 0;
  VCP_RETURN_IF_ERROR(r.U8(kind));
  if (kind != static_cast<uint8_t>(WorkloadKind::kInt8) && kind != static_cast<uint8_t>(WorkloadKind::kFp32Ordered)) {
    return Status::Corrupt("lease: workload kind " + std::to_string(kind) +
                           " is unknown; allowed: 1 (int8), 2 (fp32-ordered)");
  }
  p.kind = static_cast<WorkloadKind>(kind);
  VCP_RETURN_IF_ERROR(r.U32(p.m));
  VCP_RETURN_IF_ERROR(r.U32(p.n));
  VCP_RETURN_IF_ERROR(r.U32(p.k));
  VCP_RETURN_IF_ERROR(r.U32(p.tile));
  p.seed = Seed{};
  return Status::Ok();
}

// Bounded count of 32-byte hashes: checked against the bytes left before anything is allocated.
Status ReadHashList(ByteReader& r, std::string_view message, std::string_view field, std::vector<Hash32>& out) {
  uint32_t count = 0;
  VCP_RETURN_IF_ERROR(r.U32(count));
  if (uint64_t{count} * kHashBytes > r.remaining()) {
    return Status::Corrupt(std::string(message) + ": " + std::string(field) + " declares " + std::to_string(count) +
                           " hashes but only " + std::to_string(r.remaining()) + " bytes remain");
  }
  out.resize(count);
  for (auto& h : out) VCP_RETURN_IF_ERROR(r.Bytes(h));
  return Status::Ok();
}

}  // namespace

std::string_view LeaseModeName(LeaseMode mode) { return mode == LeaseMode::kBeacon ? "beacon" : "interactive"; }

Result<LeaseMode> ParseLeaseMode(std::string_view name) {
  if (name == "interactive") return LeaseMode::kInteractive;
  if (name == "beacon") return LeaseMode::kBeacon;
  return Status::InvalidArgument("lease mode \"" + std::string(name) + "\" is unknown; allowed: interactive, beacon");
}

std::string ToProtocolText(std::string_view text, size_t max_bytes) {
  std::string out(text.substr(0, max_bytes));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return out;
}

std::string_view MessageTypeName(MessageType type) { return Info(type).name; }

Result<MessageType> IdentifyMessage(std::span<const uint8_t> bytes) {
  if (bytes.size() >= 4) {
    const std::string_view magic(reinterpret_cast<const char*>(bytes.data()), 4);
    for (const auto& info : kMessages) {
      if (info.magic == magic) return info.type;
    }
  }
  return Status::Corrupt(
      "not a vcp protocol message: the first 4 bytes are none of the magics VCPL, VCPA, VCPS, "
      "VCPR, VCPC, VCPP, VCPV");
}

std::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kPass:
      return "pass";
    case Reason::kMissed:
      return "missed";
    case Reason::kMalformedRecord:
      return "malformed-record";
    case Reason::kWrongLease:
      return "wrong-lease";
    case Reason::kBadSignature:
      return "bad-signature";
    case Reason::kWrongEpoch:
      return "wrong-epoch";
    case Reason::kWrongBeacon:
      return "wrong-beacon";
    case Reason::kBrokenChain:
      return "broken-chain";
    case Reason::kWrongParameters:
      return "wrong-parameters";
    case Reason::kLate:
      return "late";
    case Reason::kNoResponse:
      return "no-response";
    case Reason::kMalformedResponse:
      return "malformed-response";
    case Reason::kResponseMismatch:
      return "response-mismatch";
    case Reason::kWrongChallenge:
      return "wrong-challenge";
    case Reason::kWrongSamples:
      return "wrong-samples";
    case Reason::kBadProof:
      return "bad-proof";
    case Reason::kTileMismatch:
      return "tile-mismatch";
    case Reason::kBadEpochProof:
      return "bad-epoch-proof";
  }
  return "unknown";
}

bool IsKnownReason(uint16_t code) { return code <= static_cast<uint16_t>(Reason::kBadEpochProof); }

// ---------------------------------------------------------------------------------------------------------------
// Lease: magic "VCPL", version, mode, nonce, verifier key, provider key, workload (kind u8, M, N, K, T u32),
// R u32, k u32, deadline u64, claimed rate u64, start u64, end u64, beacon genesis u64, beacon period u64,
// beacon name (u8 length, ASCII), verifier signature.

std::vector<uint8_t> Serialize(const Lease& m) {
  ByteWriter w;
  Header(w, MessageType::kLease);
  w.U8(static_cast<uint8_t>(m.mode));
  w.Bytes(m.nonce);
  w.Bytes(m.verifier_key);
  w.Bytes(m.provider_key);
  WriteWorkload(w, m.workload);
  w.U32(m.rounds_per_epoch);
  w.U32(m.samples_per_epoch);
  w.U64(m.epoch_deadline_us);
  w.U64(m.claimed_ops_per_second);
  w.U64(m.start_us);
  w.U64(m.end_us);
  w.U64(m.beacon_genesis_us);
  w.U64(m.beacon_period_us);
  w.U8(static_cast<uint8_t>(std::min<size_t>(m.beacon_name.size(), kMaxBeaconNameBytes)));
  w.Text(std::string_view(m.beacon_name).substr(0, kMaxBeaconNameBytes));
  w.Bytes(m.verifier_signature);
  return w.Take();
}

Result<Lease> ParseLease(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "lease");
  VCP_RETURN_IF_ERROR(ReadHeader(r, bytes, MessageType::kLease));
  Lease m;
  uint8_t mode = 0;
  VCP_RETURN_IF_ERROR(r.U8(mode));
  if (mode != static_cast<uint8_t>(LeaseMode::kInteractive) && mode != static_cast<uint8_t>(LeaseMode::kBeacon)) {
    return Status::Corrupt("lease: mode " + std::to_string(mode) + " is unknown; allowed: 1 (interactive), 2 (beacon)");
  }
  m.mode = static_cast<LeaseMode>(mode);
  VCP_RETURN_IF_ERROR(ReadHash(r, m.nonce));
  VCP_RETURN_IF_ERROR(r.Bytes(m.verifier_key));
  VCP_RETURN_IF_ERROR(r.Bytes(m.provider_key));
  VCP_RETURN_IF_ERROR(ReadWorkload(r, m.workload));
  VCP_RETURN_IF_ERROR(r.U32(m.rounds_per_epoch));
  VCP_RETURN_IF_ERROR(r.U32(m.samples_per_epoch));
  VCP_RETURN_IF_ERROR(r.U64(m.epoch_deadline_us));
  VCP_RETURN_IF_ERROR(r.U64(m.claimed_ops_per_second));
  VCP_RETURN_IF_ERROR(r.U64(m.start_us));
  VCP_RETURN_IF_ERROR(r.U64(m.end_us));
  VCP_RETURN_IF_ERROR(r.U64(m.beacon_genesis_us));
  VCP_RETURN_IF_ERROR(r.U64(m.beacon_period_us));
  uint8_t name_length = 0;
  VCP_RETURN_IF_ERROR(r.U8(name_length));
  VCP_RETURN_IF_ERROR(ReadText(r, name_length, kMaxBeaconNameBytes, false, "lease", "beacon name", m.beacon_name));
  VCP_RETURN_IF_ERROR(ReadSig(r, m.verifier_signature));
  VCP_RETURN_IF_ERROR(Trailing(r, MessageType::kLease));
  return m;
}

Status Sign(Lease& m, const SecretKey& key) {
  if (key.public_key() != m.verifier_key) {
    return Status::InvalidArgument("lease: signing key " + ToHex(key.public_key()) +
                                   " is not the lease's verifier key " + ToHex(m.verifier_key));
  }
  m.verifier_signature = SignMessage(MessageType::kLease, m, key);
  return Status::Ok();
}

Status CheckSignature(const Lease& m) {
  return CheckMessage(MessageType::kLease, m, m.verifier_signature, m.verifier_key, "lease's verifier");
}

// ---------------------------------------------------------------------------------------------------------------
// Lease acceptance: magic "VCPA", version, lease id, accepted time u64, provider signature.

std::vector<uint8_t> Serialize(const LeaseAcceptance& m) {
  ByteWriter w;
  Header(w, MessageType::kAcceptance);
  w.Bytes(m.lease_id);
  w.U64(m.accepted_us);
  w.Bytes(m.provider_signature);
  return w.Take();
}

Result<LeaseAcceptance> ParseLeaseAcceptance(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "lease-acceptance");
  VCP_RETURN_IF_ERROR(ReadHeader(r, bytes, MessageType::kAcceptance));
  LeaseAcceptance m;
  VCP_RETURN_IF_ERROR(ReadHash(r, m.lease_id));
  VCP_RETURN_IF_ERROR(r.U64(m.accepted_us));
  VCP_RETURN_IF_ERROR(ReadSig(r, m.provider_signature));
  VCP_RETURN_IF_ERROR(Trailing(r, MessageType::kAcceptance));
  return m;
}

Status Sign(LeaseAcceptance& m, const SecretKey& key) {
  m.provider_signature = SignMessage(MessageType::kAcceptance, m, key);
  return Status::Ok();
}

Status CheckSignature(const LeaseAcceptance& m, const PublicKey& provider_key) {
  return CheckMessage(MessageType::kAcceptance, m, m.provider_signature, provider_key, "lease's provider");
}

// ---------------------------------------------------------------------------------------------------------------
// Epoch start: magic "VCPS", version, lease id, epoch u64, beacon, previous record hash, start time u64,
// verifier signature.

std::vector<uint8_t> Serialize(const EpochStart& m) {
  ByteWriter w;
  Header(w, MessageType::kEpochStart);
  w.Bytes(m.lease_id);
  w.U64(m.epoch);
  w.Bytes(m.beacon);
  w.Bytes(m.prev_record);
  w.U64(m.start_us);
  w.Bytes(m.verifier_signature);
  return w.Take();
}

Result<EpochStart> ParseEpochStart(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "epoch-start");
  VCP_RETURN_IF_ERROR(ReadHeader(r, bytes, MessageType::kEpochStart));
  EpochStart m;
  VCP_RETURN_IF_ERROR(ReadHash(r, m.lease_id));
  VCP_RETURN_IF_ERROR(r.U64(m.epoch));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.beacon));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.prev_record));
  VCP_RETURN_IF_ERROR(r.U64(m.start_us));
  VCP_RETURN_IF_ERROR(ReadSig(r, m.verifier_signature));
  VCP_RETURN_IF_ERROR(Trailing(r, MessageType::kEpochStart));
  return m;
}

Status Sign(EpochStart& m, const SecretKey& key) {
  m.verifier_signature = SignMessage(MessageType::kEpochStart, m, key);
  return Status::Ok();
}

Status CheckSignature(const EpochStart& m, const PublicKey& verifier_key) {
  return CheckMessage(MessageType::kEpochStart, m, m.verifier_signature, verifier_key, "lease's verifier");
}

// ---------------------------------------------------------------------------------------------------------------
// Epoch record: magic "VCPR", version, lease id, epoch u64, beacon, previous record hash, rounds u32, epoch root,
// operations u64, provider start u64, provider end u64, device (u16 length, ASCII), provider signature.

std::vector<uint8_t> Serialize(const EpochRecord& m) {
  ByteWriter w;
  Header(w, MessageType::kRecord);
  w.Bytes(m.lease_id);
  w.U64(m.epoch);
  w.Bytes(m.beacon);
  w.Bytes(m.prev_record);
  w.U32(m.rounds);
  w.Bytes(m.epoch_root);
  w.U64(m.operations);
  w.U64(m.provider_start_us);
  w.U64(m.provider_end_us);
  const std::string_view device = std::string_view(m.device).substr(0, kMaxDeviceBytes);
  w.U16(static_cast<uint16_t>(device.size()));
  w.Text(device);
  w.Bytes(m.provider_signature);
  return w.Take();
}

Result<EpochRecord> ParseEpochRecord(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "epoch-record");
  VCP_RETURN_IF_ERROR(ReadHeader(r, bytes, MessageType::kRecord));
  EpochRecord m;
  VCP_RETURN_IF_ERROR(ReadHash(r, m.lease_id));
  VCP_RETURN_IF_ERROR(r.U64(m.epoch));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.beacon));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.prev_record));
  VCP_RETURN_IF_ERROR(r.U32(m.rounds));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.epoch_root));
  VCP_RETURN_IF_ERROR(r.U64(m.operations));
  VCP_RETURN_IF_ERROR(r.U64(m.provider_start_us));
  VCP_RETURN_IF_ERROR(r.U64(m.provider_end_us));
  uint16_t device_length = 0;
  VCP_RETURN_IF_ERROR(r.U16(device_length));
  VCP_RETURN_IF_ERROR(ReadText(r, device_length, kMaxDeviceBytes, true, "epoch-record", "device", m.device));
  VCP_RETURN_IF_ERROR(ReadSig(r, m.provider_signature));
  VCP_RETURN_IF_ERROR(Trailing(r, MessageType::kRecord));
  return m;
}

Status Sign(EpochRecord& m, const SecretKey& key) {
  m.provider_signature = SignMessage(MessageType::kRecord, m, key);
  return Status::Ok();
}

Status CheckSignature(const EpochRecord& m, const PublicKey& provider_key) {
  return CheckMessage(MessageType::kRecord, m, m.provider_signature, provider_key, "lease's provider");
}

// ---------------------------------------------------------------------------------------------------------------
// Challenge: magic "VCPC", version, lease id, epoch u64, record hash, randomness, verifier signature.

std::vector<uint8_t> Serialize(const Challenge& m) {
  ByteWriter w;
  Header(w, MessageType::kChallenge);
  w.Bytes(m.lease_id);
  w.U64(m.epoch);
  w.Bytes(m.record_hash);
  w.Bytes(m.randomness);
  w.Bytes(m.verifier_signature);
  return w.Take();
}

Result<Challenge> ParseChallenge(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "challenge");
  VCP_RETURN_IF_ERROR(ReadHeader(r, bytes, MessageType::kChallenge));
  Challenge m;
  VCP_RETURN_IF_ERROR(ReadHash(r, m.lease_id));
  VCP_RETURN_IF_ERROR(r.U64(m.epoch));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.record_hash));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.randomness));
  VCP_RETURN_IF_ERROR(ReadSig(r, m.verifier_signature));
  VCP_RETURN_IF_ERROR(Trailing(r, MessageType::kChallenge));
  return m;
}

Status Sign(Challenge& m, const SecretKey& key) {
  m.verifier_signature = SignMessage(MessageType::kChallenge, m, key);
  return Status::Ok();
}

Status CheckSignature(const Challenge& m, const PublicKey& verifier_key) {
  return CheckMessage(MessageType::kChallenge, m, m.verifier_signature, verifier_key, "lease's verifier");
}

// ---------------------------------------------------------------------------------------------------------------
// Epoch response: magic "VCPP", version, lease id, epoch u64, record hash, challenge kind u8, beacon round u64,
// challenge value, u32 round count, per round (u32 round, root, u32 hash count, hashes), u32 epoch hash count,
// epoch hashes, provider signature.

std::vector<uint8_t> Serialize(const EpochResponse& m) {
  ByteWriter w;
  Header(w, MessageType::kResponse);
  w.Bytes(m.lease_id);
  w.U64(m.epoch);
  w.Bytes(m.record_hash);
  w.U8(static_cast<uint8_t>(m.challenge.kind));
  w.U64(m.challenge.beacon_round);
  w.Bytes(m.challenge.value);
  w.U32(static_cast<uint32_t>(m.rounds.size()));
  for (const RoundOpening& round : m.rounds) {
    w.U32(round.round);
    w.Bytes(round.root);
    w.U32(static_cast<uint32_t>(round.hashes.size()));
    for (const Hash32& h : round.hashes) w.Bytes(h);
  }
  w.U32(static_cast<uint32_t>(m.epoch_hashes.size()));
  for (const Hash32& h : m.epoch_hashes) w.Bytes(h);
  w.Bytes(m.provider_signature);
  return w.Take();
}

Result<EpochResponse> ParseEpochResponse(std::span<const uint8_t> bytes) {
  constexpr std::string_view kName = "epoch-response";
  ByteReader r(bytes, kName);
  VCP_RETURN_IF_ERROR(ReadHeader(r, bytes, MessageType::kResponse));
  EpochResponse m;
  VCP_RETURN_IF_ERROR(ReadHash(r, m.lease_id));
  VCP_RETURN_IF_ERROR(r.U64(m.epoch));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.record_hash));
  uint8_t kind = 0;
  VCP_RETURN_IF_ERROR(r.U8(kind));
  if (kind != static_cast<uint8_t>(ChallengeKind::kVerifierRandomness) &&
      kind != static_cast<uint8_t>(ChallengeKind::kBeacon)) {
    return Status::Corrupt("epoch-response: challenge kind " + std::to_string(kind) +
                           " is unknown; allowed: 1 (verifier randomness), 2 (beacon)");
  }
  m.challenge.kind = static_cast<ChallengeKind>(kind);
  VCP_RETURN_IF_ERROR(r.U64(m.challenge.beacon_round));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.challenge.value));
  uint32_t round_count = 0;
  VCP_RETURN_IF_ERROR(r.U32(round_count));
  if (round_count > kMaxSamples) {
    return Status::Corrupt("epoch-response: " + std::to_string(round_count) + " opened rounds; at most " +
                           std::to_string(kMaxSamples) + " (the most samples a lease may draw)");
  }
  m.rounds.resize(round_count);
  for (uint32_t i = 0; i < round_count; ++i) {
    RoundOpening& round = m.rounds[i];
    VCP_RETURN_IF_ERROR(r.U32(round.round));
    if (i > 0 && round.round <= m.rounds[i - 1].round) {
      return Status::Corrupt("epoch-response: opened round " + std::to_string(round.round) + " follows round " +
                             std::to_string(m.rounds[i - 1].round) + "; rounds must be strictly increasing");
    }
    VCP_RETURN_IF_ERROR(ReadHash(r, round.root));
    VCP_RETURN_IF_ERROR(ReadHashList(r, kName, "round " + std::to_string(round.round) + " proof", round.hashes));
  }
  VCP_RETURN_IF_ERROR(ReadHashList(r, kName, "epoch proof", m.epoch_hashes));
  VCP_RETURN_IF_ERROR(ReadSig(r, m.provider_signature));
  VCP_RETURN_IF_ERROR(Trailing(r, MessageType::kResponse));
  return m;
}

Status Sign(EpochResponse& m, const SecretKey& key) {
  m.provider_signature = SignMessage(MessageType::kResponse, m, key);
  return Status::Ok();
}

Status CheckSignature(const EpochResponse& m, const PublicKey& provider_key) {
  return CheckMessage(MessageType::kResponse, m, m.provider_signature, provider_key, "lease's provider");
}

// ---------------------------------------------------------------------------------------------------------------
// Verdict: magic "VCPV", version, lease id, epoch u64, record hash, reason u16, start u64, arrival u64,
// operations u64, detail (u16 length, ASCII), verifier signature.

std::vector<uint8_t> Serialize(const Verdict& m) {
  ByteWriter w;
  Header(w, MessageType::kVerdict);
  w.Bytes(m.lease_id);
  w.U64(m.epoch);
  w.Bytes(m.record_hash);
  w.U16(static_cast<uint16_t>(m.reason));
  w.U64(m.start_us);
  w.U64(m.arrival_us);
  w.U64(m.operations);
  const std::string_view detail = std::string_view(m.detail).substr(0, kMaxDetailBytes);
  w.U16(static_cast<uint16_t>(detail.size()));
  w.Text(detail);
  w.Bytes(m.verifier_signature);
  return w.Take();
}

Result<Verdict> ParseVerdict(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "verdict");
  VCP_RETURN_IF_ERROR(ReadHeader(r, bytes, MessageType::kVerdict));
  Verdict m;
  VCP_RETURN_IF_ERROR(ReadHash(r, m.lease_id));
  VCP_RETURN_IF_ERROR(r.U64(m.epoch));
  VCP_RETURN_IF_ERROR(ReadHash(r, m.record_hash));
  uint16_t reason = 0;
  VCP_RETURN_IF_ERROR(r.U16(reason));
  if (!IsKnownReason(reason)) {
    return Status::Corrupt("verdict: reason code " + std::to_string(reason) + " is unknown; allowed: 0.." +
                           std::to_string(static_cast<uint16_t>(Reason::kBadEpochProof)));
  }
  m.reason = static_cast<Reason>(reason);
  VCP_RETURN_IF_ERROR(r.U64(m.start_us));
  VCP_RETURN_IF_ERROR(r.U64(m.arrival_us));
  VCP_RETURN_IF_ERROR(r.U64(m.operations));
  uint16_t detail_length = 0;
  VCP_RETURN_IF_ERROR(r.U16(detail_length));
  VCP_RETURN_IF_ERROR(ReadText(r, detail_length, kMaxDetailBytes, true, "verdict", "detail", m.detail));
  VCP_RETURN_IF_ERROR(ReadSig(r, m.verifier_signature));
  VCP_RETURN_IF_ERROR(Trailing(r, MessageType::kVerdict));
  return m;
}

Status Sign(Verdict& m, const SecretKey& key) {
  m.verifier_signature = SignMessage(MessageType::kVerdict, m, key);
  return Status::Ok();
}

Status CheckSignature(const Verdict& m, const PublicKey& verifier_key) {
  return CheckMessage(MessageType::kVerdict, m, m.verifier_signature, verifier_key, "lease's verifier");
}

}  // namespace vcp

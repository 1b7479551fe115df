// Canonical bytes, parsing and signatures of the lease protocol's messages (docs/PROTOCOL.md section 4). Each
// message's fields are listed once, in message_schema.h; Serialize walks that list with a Writer and Parse with a
// Reader, so the two cannot disagree about a field.
#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "protocol/message_schema.h"
#include "vcp/bytes.h"
#include "vcp/protocol.h"

namespace vcp {

namespace {

struct MessageInfo {
  MessageType type;
  std::string_view magic;
  std::string_view name;     // in error messages and vcp inspect
  std::string_view sig_tag;  // TaggedHash tag of the signed digest
};

constexpr std::array<MessageInfo, 7> kMessages = {{
    {MessageType::kLease, "VCPL", "lease", "vcp.v2.sig.lease"},
    {MessageType::kAcceptance, "VCPA", "lease-acceptance", "vcp.v2.sig.lease-acceptance"},
    {MessageType::kEpochStart, "VCPS", "epoch-start", "vcp.v2.sig.epoch-start"},
    {MessageType::kRecord, "VCPR", "epoch-record", "vcp.v2.sig.epoch-record"},
    {MessageType::kChallenge, "VCPC", "challenge", "vcp.v2.sig.challenge"},
    {MessageType::kResponse, "VCPP", "epoch-response", "vcp.v2.sig.epoch-response"},
    {MessageType::kVerdict, "VCPV", "verdict", "vcp.v2.sig.verdict"},
}};

const MessageInfo& Info(MessageType type) {
  for (const auto& info : kMessages) {
    if (info.type == type) return info;
  }
  return kMessages[0];  // unreachable: every MessageType is in the table
}

// Text fields are printable ASCII so every message renders unambiguously in logs and JSON.
bool Printable(std::string_view s, bool allow_space) {
  return std::all_of(s.begin(), s.end(), [allow_space](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u > 0x20 && u < 0x7f) || (allow_space && u == 0x20);
  });
}

// Appends each field as the schema lists it.
class Writer {
 public:
  explicit Writer(ByteWriter& w) : w_(w) {}

  template <class T>
  void Uint(std::string_view, const T& v) {
    Le(v);
  }
  template <class E>
  void Enum(std::string_view, const E& v, const schema::EnumRule<E>&) {
    Le(static_cast<std::underlying_type_t<E>>(v));
  }
  template <size_t N>
  void Bytes(std::string_view, const std::array<uint8_t, N>& v) {
    w_.Bytes(v);
  }
  void Text(std::string_view, const std::string& s, const schema::TextRule& rule) {
    const std::string_view text = std::string_view(s).substr(0, rule.max_bytes);
    if (rule.length_bytes == 1) {
      w_.U8(static_cast<uint8_t>(text.size()));
    } else {
      w_.U16(static_cast<uint16_t>(text.size()));
    }
    w_.Text(text);
  }
  void HashList(std::string_view, const std::vector<Hash32>& hashes) {
    w_.U32(static_cast<uint32_t>(hashes.size()));
    for (const Hash32& h : hashes) w_.Bytes(h);
  }
  template <class Item, class F>
  void List(std::string_view, const std::vector<Item>& items, const schema::ListRule&, F&& item) {
    w_.U32(static_cast<uint32_t>(items.size()));
    for (size_t i = 0; i < items.size(); ++i) item(items[i], i);
  }
  template <class Item>
  void Count(std::string_view, const std::vector<Item>& items, const schema::ListRule&) {
    w_.U8(static_cast<uint8_t>(items.size()));
  }
  template <class Item, class F>
  void Items(std::string_view, const std::vector<Item>& items, F&& item) {
    for (size_t i = 0; i < items.size(); ++i) item(items[i], i);
  }
  void BeginGroup(std::string_view) {}
  void EndGroup() {}
  template <class F>
  void Check(std::string_view, bool, F&&) {}  // the parser's rules; a writer writes what it is given

 private:
  template <class T>
  void Le(T v) {
    static_assert(std::is_unsigned_v<T>);
    if constexpr (sizeof(T) == 1) {
      w_.U8(v);
    } else if constexpr (sizeof(T) == 2) {
      w_.U16(v);
    } else if constexpr (sizeof(T) == 4) {
      w_.U32(v);
    } else {
      static_assert(sizeof(T) == 8);
      w_.U64(v);
    }
  }
  ByteWriter& w_;
};

// Reads each field as the schema lists it and checks its rules. The first failure is kept and every later field
// is skipped, so the error names the first field that is wrong.
class Reader {
 public:
  Reader(ByteReader& r, std::string_view message) : r_(r), message_(message) {}
  const Status& status() const { return status_; }

  template <class T>
  void Uint(std::string_view name, T& v) {
    if (status_.ok()) status_ = Le(v, Path(name));
  }
  template <class E>
  void Enum(std::string_view name, E& v, const schema::EnumRule<E>& rule) {
    std::underlying_type_t<E> code = 0;
    Uint(name, code);
    if (!status_.ok()) return;
    if (!rule.known(code)) {
      Fail(Path(name) + " " + std::to_string(code) + " is unknown; allowed: " + Allowed(rule));
      return;
    }
    v = static_cast<E>(code);
  }
  template <size_t N>
  void Bytes(std::string_view name, std::array<uint8_t, N>& v) {
    if (status_.ok()) status_ = r_.Bytes(v, Path(name));
  }
  void Text(std::string_view name, std::string& out, const schema::TextRule& rule) {
    size_t length = 0;
    if (rule.length_bytes == 1) {
      uint8_t n = 0;
      Uint(std::string(name) + " length", n);
      length = n;
    } else {
      uint16_t n = 0;
      Uint(std::string(name) + " length", n);
      length = n;
    }
    if (!status_.ok()) return;
    if (length > rule.max_bytes) {
      Fail(Path(name) + " is " + std::to_string(length) + " bytes; at most " + std::to_string(rule.max_bytes) +
           " are allowed");
      return;
    }
    std::string text(length, '\0');
    status_ = r_.Bytes(std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), length), Path(name));
    if (!status_.ok()) return;
    if (!Printable(text, rule.allow_space)) {
      Fail(Path(name) + (rule.allow_space ? " must be printable ASCII (bytes 0x20 to 0x7e)"
                                          : " must be printable ASCII without spaces (bytes 0x21 to 0x7e)"));
      return;
    }
    out = std::move(text);
  }
  // The count is checked against the bytes left before anything is allocated, so a forged count cannot make the
  // parser reserve gigabytes.
  void HashList(std::string_view name, std::vector<Hash32>& out) {
    uint32_t count = 0;
    Uint(std::string(name) + " count", count);
    if (!status_.ok()) return;
    if (uint64_t{count} * kHashBytes > r_.remaining()) {
      Fail(Path(name) + " declares " + std::to_string(count) + " hashes (" + std::to_string(uint64_t{count} * 32) +
           " bytes) but only " + std::to_string(r_.remaining()) + " bytes remain");
      return;
    }
    out.resize(count);
    for (Hash32& h : out) {
      status_ = r_.Bytes(h, Path(name));
      if (!status_.ok()) return;
    }
  }
  template <class Item, class F>
  void List(std::string_view name, std::vector<Item>& items, const schema::ListRule& rule, F&& item) {
    uint32_t count = 0;
    Uint(std::string(name) + " count", count);
    if (!status_.ok() || !CountInRange(Path(name) + " count", count, rule)) return;
    items.resize(count);
    Items(name, items, std::forward<F>(item));
  }
  template <class Item>
  void Count(std::string_view name, std::vector<Item>& items, const schema::ListRule& rule) {
    uint8_t count = 0;
    Uint(name, count);
    if (!status_.ok() || !CountInRange(Path(name), count, rule)) return;
    items.resize(count);
  }
  template <class Item, class F>
  void Items(std::string_view name, std::vector<Item>& items, F&& item) {
    for (size_t i = 0; i < items.size() && status_.ok(); ++i) {
      path_.push_back(std::string(name) + "[" + std::to_string(i) + "]");
      item(items[i], i);
      path_.pop_back();
    }
  }
  void BeginGroup(std::string_view name) { path_.emplace_back(name); }
  void EndGroup() { path_.pop_back(); }
  template <class F>
  void Check(std::string_view name, bool ok, F&& explain) {
    if (status_.ok() && !ok) Fail(Path(name) + " " + explain());
  }

 private:
  // "workload.kind", "rounds[2].hashes": the field as the JSON of vcp inspect nests it.
  std::string Path(std::string_view name) const {
    std::string path;
    for (const std::string& part : path_) path += part + ".";
    return path + std::string(name);
  }
  void Fail(const std::string& what) { status_ = Status::Corrupt(message_ + ": " + what); }
  bool CountInRange(const std::string& field, uint32_t count, const schema::ListRule& rule) {
    if (count >= rule.min_items && count <= rule.max_items) return true;
    Fail(field + " " + std::to_string(count) + " is out of range; allowed: " + std::to_string(rule.min_items) +
         " to " + std::to_string(rule.max_items) + " (" + std::string(rule.why) + ")");
    return false;
  }

  template <class T>
  Status Le(T& v, const std::string& field) {
    static_assert(std::is_unsigned_v<T>);
    if constexpr (sizeof(T) == 1) {
      return r_.U8(v, field);
    } else if constexpr (sizeof(T) == 2) {
      return r_.U16(v, field);
    } else if constexpr (sizeof(T) == 4) {
      return r_.U32(v, field);
    } else {
      static_assert(sizeof(T) == 8);
      return r_.U64(v, field);
    }
  }
  // Every code the rule knows, with its name: "1 (interactive), 2 (beacon)".
  template <class E>
  static std::string Allowed(const schema::EnumRule<E>& rule) {
    using U = std::underlying_type_t<E>;
    std::string out;
    for (uint32_t c = 0; c <= std::numeric_limits<U>::max(); ++c) {
      if (!rule.known(static_cast<U>(c))) continue;
      if (!out.empty()) out += ", ";
      out += std::to_string(c) + " (" + std::string(rule.name(static_cast<E>(c))) + ")";
    }
    return out;
  }

  ByteReader& r_;
  std::string message_;
  std::vector<std::string> path_;  // enclosing groups and list elements
  Status status_;
};

// Magic and version, with messages that name what the bytes are instead when they are another vcp message.
Status ReadHeader(ByteReader& r, std::span<const uint8_t> bytes, const MessageInfo& info) {
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
  VCP_RETURN_IF_ERROR(r.Expect(info.magic));
  uint8_t version = 0;
  VCP_RETURN_IF_ERROR(r.U8(version, "version"));
  if (version != kProtocolVersion) {
    return Status::Corrupt(std::string(info.name) + ": protocol version " + std::to_string(version) +
                           " is not supported; this build reads version " + std::to_string(kProtocolVersion));
  }
  return Status::Ok();
}

template <class M>
std::vector<uint8_t> SerializeMessage(const M& m) {
  ByteWriter w;
  w.Text(Info(schema::TypeOf(m)).magic);
  w.U8(kProtocolVersion);
  Writer writer(w);
  schema::Fields(writer, m);
  return w.Take();
}

template <class M>
Result<M> ParseMessage(std::span<const uint8_t> bytes) {
  M m;
  const MessageInfo& info = Info(schema::TypeOf(m));
  ByteReader r(bytes, info.name);
  VCP_RETURN_IF_ERROR(ReadHeader(r, bytes, info));
  Reader reader(r, info.name);
  schema::Fields(reader, m);
  VCP_RETURN_IF_ERROR(reader.status());
  if (r.remaining() != 0) {
    return Status::Corrupt(std::string(info.name) + ": " + std::to_string(r.remaining()) +
                           " trailing bytes after the signature at offset " + std::to_string(r.offset()) +
                           "; a message ends with its signature");
  }
  return m;
}

// The digest a message's signature covers.
template <class M>
Hash32 SigningDigest(const M& m) {
  return schema::HashBeforeSignature(Info(schema::TypeOf(m)).sig_tag, Serialize(m));
}

template <class M>
Signature SignMessage(const M& m, const SecretKey& key) {
  return key.Sign(SigningDigest(m));
}

template <class M>
Status CheckMessage(const M& m, const Signature& sig, const PublicKey& key, std::string_view who) {
  const MessageType type = schema::TypeOf(m);
  if (!VerifySignature(key, SigningDigest(m), sig).ok()) {
    return Status::Rejected(std::string(Info(type).name) + ": signature does not verify under the " +
                            std::string(who) + " key " + ToHex(key));
  }
  return Status::Ok();
}

}  // namespace

std::string_view LeaseModeName(LeaseMode mode) {
  switch (mode) {
    case LeaseMode::kInteractive:
      return "interactive";
    case LeaseMode::kBeacon:
      return "beacon";
  }
  return "unknown";
}

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

std::string_view ChallengeKindName(ChallengeKind kind) {
  switch (kind) {
    case ChallengeKind::kVerifierRandomness:
      return "verifier-randomness";
    case ChallengeKind::kBeacon:
      return "beacon";
  }
  return "unknown";
}

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
    case Reason::kVoidVerifierDown:
      return "void-verifier-down";
    case Reason::kVoidClock:
      return "void-clock";
    case Reason::kVoidBeaconUnavailable:
      return "void-beacon-unavailable";
  }
  return "unknown";
}

bool IsKnownReason(uint16_t code) { return code <= static_cast<uint16_t>(Reason::kVoidBeaconUnavailable); }

VerdictOutcome OutcomeOf(Reason reason) {
  if (reason == Reason::kPass) return VerdictOutcome::kPass;
  if (reason >= Reason::kVoidVerifierDown && reason <= Reason::kVoidBeaconUnavailable) return VerdictOutcome::kVoid;
  return VerdictOutcome::kFail;
}

std::string_view VerdictOutcomeName(VerdictOutcome outcome) {
  switch (outcome) {
    case VerdictOutcome::kPass:
      return "pass";
    case VerdictOutcome::kFail:
      return "fail";
    case VerdictOutcome::kVoid:
      return "void";
  }
  return "unknown";
}

std::string_view EpochScheduleName(EpochSchedule schedule) {
  switch (schedule) {
    case EpochSchedule::kScheduled:
      return "scheduled";
    case EpochSchedule::kOnDemand:
      return "on-demand";
  }
  return "unknown";
}

Result<EpochSchedule> ParseEpochSchedule(std::string_view name) {
  if (name == "scheduled") return EpochSchedule::kScheduled;
  if (name == "on-demand") return EpochSchedule::kOnDemand;
  return Status::InvalidArgument("epoch schedule \"" + std::string(name) +
                                 "\" is unknown; allowed: scheduled, on-demand");
}

std::string_view DeviceBackendName(DeviceBackend backend) {
  switch (backend) {
    case DeviceBackend::kCpu:
      return "cpu";
    case DeviceBackend::kCuda:
      return "cuda";
  }
  return "unknown";
}

std::string DescribeDevice(const DeviceEvidence& d) {
  std::string out = std::string(DeviceBackendName(d.backend)) + ": " + (d.name.empty() ? "(no name)" : d.name);
  std::vector<std::string> facts;
  if (d.backend == DeviceBackend::kCuda) {
    facts.push_back(std::to_string(d.compute_units) + " SMs");
  } else {
    facts.push_back(std::to_string(d.compute_units) + (d.compute_units == 1 ? " thread" : " threads"));
  }
  if (d.memory_bytes != 0) {
    // Whole GiB when it is at least one, else MiB: a GPU's memory is never an exact power of two.
    constexpr uint64_t kMiB = uint64_t{1} << 20, kGiB = uint64_t{1} << 30;
    facts.push_back(d.memory_bytes >= kGiB ? std::to_string(d.memory_bytes / kGiB) + " GiB"
                                           : std::to_string(d.memory_bytes / kMiB) + " MiB");
  }
  if (d.compute_capability_major != 0) {
    facts.push_back("cc " + std::to_string(d.compute_capability_major) + "." +
                    std::to_string(d.compute_capability_minor));
  }
  out += " (";
  for (size_t i = 0; i < facts.size(); ++i) out += (i ? ", " : "") + facts[i];
  out += ")";
  if (std::any_of(d.uuid.begin(), d.uuid.end(), [](uint8_t b) { return b != 0; })) {
    // nvidia-smi's spelling, so the line can be matched against the provider's own tools.
    const std::string hex = ToHex(d.uuid);
    out += " uuid GPU-" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
           hex.substr(16, 4) + "-" + hex.substr(20);
  }
  if (!d.pci_bus_id.empty()) out += " pci " + d.pci_bus_id;
  return out;
}

bool SameDeviceSet(std::span<const DeviceEvidence> a, std::span<const DeviceEvidence> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const DeviceEvidence& x, const DeviceEvidence& y) {
    return x.backend == y.backend && x.name == y.name && x.uuid == y.uuid && x.pci_bus_id == y.pci_bus_id;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Bytes: every message's fields are in message_schema.h.

std::vector<uint8_t> Serialize(const Lease& m) { return SerializeMessage(m); }
std::vector<uint8_t> Serialize(const LeaseAcceptance& m) { return SerializeMessage(m); }
std::vector<uint8_t> Serialize(const EpochStart& m) { return SerializeMessage(m); }
std::vector<uint8_t> Serialize(const EpochRecord& m) { return SerializeMessage(m); }
std::vector<uint8_t> Serialize(const Challenge& m) { return SerializeMessage(m); }
std::vector<uint8_t> Serialize(const EpochResponse& m) { return SerializeMessage(m); }
std::vector<uint8_t> Serialize(const Verdict& m) { return SerializeMessage(m); }

Result<Lease> ParseLease(std::span<const uint8_t> bytes) {
  VCP_ASSIGN_OR_RETURN(Lease lease, ParseMessage<Lease>(bytes));
  // A lease whose times could wrap a sum is not a lease (section 5.2); the message is ValidateLeaseTimes' own.
  if (Status s = ValidateLeaseTimes(lease); !s.ok()) return Status::Corrupt(std::string(s.message()));
  return lease;
}
Result<LeaseAcceptance> ParseLeaseAcceptance(std::span<const uint8_t> bytes) {
  return ParseMessage<LeaseAcceptance>(bytes);
}
Result<EpochStart> ParseEpochStart(std::span<const uint8_t> bytes) { return ParseMessage<EpochStart>(bytes); }
Result<EpochRecord> ParseEpochRecord(std::span<const uint8_t> bytes) { return ParseMessage<EpochRecord>(bytes); }
Result<Challenge> ParseChallenge(std::span<const uint8_t> bytes) { return ParseMessage<Challenge>(bytes); }
Result<EpochResponse> ParseEpochResponse(std::span<const uint8_t> bytes) {
  return ParseMessage<EpochResponse>(bytes);
}
Result<Verdict> ParseVerdict(std::span<const uint8_t> bytes) { return ParseMessage<Verdict>(bytes); }

// ---------------------------------------------------------------------------------------------------------------
// Signatures. Only the lease names its signer; the sessions check the other keys against the lease.

Status Sign(Lease& m, const SecretKey& key) {
  if (key.public_key() != m.verifier_key) {
    return Status::InvalidArgument("lease: signing key " + ToHex(key.public_key()) +
                                   " is not the lease's verifier key " + ToHex(m.verifier_key));
  }
  m.verifier_signature = SignMessage(m, key);
  return Status::Ok();
}
Status Sign(LeaseAcceptance& m, const SecretKey& key) {
  m.provider_signature = SignMessage(m, key);
  return Status::Ok();
}
Status Sign(EpochStart& m, const SecretKey& key) {
  m.verifier_signature = SignMessage(m, key);
  return Status::Ok();
}
Status Sign(EpochRecord& m, const SecretKey& key) {
  m.provider_signature = SignMessage(m, key);
  return Status::Ok();
}
Status Sign(Challenge& m, const SecretKey& key) {
  m.verifier_signature = SignMessage(m, key);
  return Status::Ok();
}
Status Sign(EpochResponse& m, const SecretKey& key) {
  m.provider_signature = SignMessage(m, key);
  return Status::Ok();
}
Status Sign(Verdict& m, const SecretKey& key) {
  m.verifier_signature = SignMessage(m, key);
  return Status::Ok();
}

Status CheckSignature(const Lease& m) {
  return CheckMessage(m, m.verifier_signature, m.verifier_key, "lease's verifier");
}
Status CheckSignature(const LeaseAcceptance& m, const PublicKey& provider_key) {
  return CheckMessage(m, m.provider_signature, provider_key, "lease's provider");
}
Status CheckSignature(const EpochStart& m, const PublicKey& verifier_key) {
  return CheckMessage(m, m.verifier_signature, verifier_key, "lease's verifier");
}
Status CheckSignature(const EpochRecord& m, const PublicKey& provider_key) {
  return CheckMessage(m, m.provider_signature, provider_key, "lease's provider");
}
Status CheckSignature(const Challenge& m, const PublicKey& verifier_key) {
  return CheckMessage(m, m.verifier_signature, verifier_key, "lease's verifier");
}
Status CheckSignature(const EpochResponse& m, const PublicKey& provider_key) {
  return CheckMessage(m, m.provider_signature, provider_key, "lease's provider");
}
Status CheckSignature(const Verdict& m, const PublicKey& verifier_key) {
  return CheckMessage(m, m.verifier_signature, verifier_key, "lease's verifier");
}

}  // namespace vcp

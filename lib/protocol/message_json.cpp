// Protocol messages and multiproof files as JSON (vcp/message_json.h). A message's fields come from its schema
// (message_schema.h), walked with a visitor that writes JSON instead of bytes; only the derived values are listed
// here.
#include "vcp/message_json.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "protocol/message_schema.h"
#include "vcp/bytes.h"

namespace vcp {

namespace {

using Json = nlohmann::ordered_json;  // keeps wire order

// Builds one JSON object from a schema walk. Groups and list elements are built as objects of their own and
// moved into their parent when they close, so no reference into a growing object is ever held.
class JsonWriter {
 public:
  JsonWriter() { open_.emplace_back(std::string(), Json::object()); }
  Json Take() { return std::move(open_.front().second); }

  template <class T>
  void Put(std::string_view name, T&& value) {
    Top()[std::string(name)] = std::forward<T>(value);
  }

  template <class T>
  void Uint(std::string_view name, const T& v) {
    Put(name, v);
  }
  template <class E>
  void Enum(std::string_view name, const E& v, const schema::EnumRule<E>& rule) {
    Put(name, std::string(rule.name(v)));
  }
  template <size_t N>
  void Bytes(std::string_view name, const std::array<uint8_t, N>& v) {
    Put(name, ToHex(v));
  }
  void Text(std::string_view name, const std::string& s, const schema::TextRule& rule) {
    Put(name, s.substr(0, rule.max_bytes));
  }
  void HashList(std::string_view name, const std::vector<Hash32>& hashes) { Put(name, HexArray(hashes)); }
  template <class Item, class F>
  void List(std::string_view name, const std::vector<Item>& items, const schema::ListRule&, F&& item) {
    Items(name, items, std::forward<F>(item));
  }
  template <class Item>
  void Count(std::string_view name, const std::vector<Item>& items, const schema::ListRule&) {
    Put(name, items.size());
  }
  template <class Item, class F>
  void Items(std::string_view name, const std::vector<Item>& items, F&& item) {
    Json array = Json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      open_.emplace_back(std::string(), Json::object());
      item(items[i], i);
      array.push_back(std::move(open_.back().second));
      open_.pop_back();
    }
    Put(name, std::move(array));
  }
  void BeginGroup(std::string_view name) { open_.emplace_back(std::string(name), Json::object()); }
  void EndGroup() {
    auto [name, object] = std::move(open_.back());
    open_.pop_back();
    Put(name, std::move(object));
  }
  template <class F>
  void Check(std::string_view, bool, F&&) {}  // the parser's rules; JSON shows what is there

  static Json HexArray(const std::vector<Hash32>& hashes) {
    Json array = Json::array();
    for (const Hash32& h : hashes) array.push_back(ToHex(h));
    return array;
  }

 private:
  Json& Top() { return open_.back().second; }
  std::vector<std::pair<std::string, Json>> open_;  // the message, then each open group or list element
};

template <class M>
Json FieldsJson(const M& m) {
  JsonWriter w;
  w.Put("type", std::string(MessageTypeName(schema::TypeOf(m))));
  schema::Fields(w, m);
  return w.Take();
}

// Each message's JSON: its schema fields, then what can be derived from the message alone.
Json MessageObject(const Lease& m) {
  Json j = FieldsJson(m);
  j["lease_id"] = ToHex(LeaseId(m));
  j["operations_per_device"] = DeviceOperations(m);
  j["operations_per_epoch"] = EpochOperations(m);
  j["compute_time_us"] = ComputeTimeUs(m);
  j["deadline_us"] = EpochDeadlineUs(m);
  j["guaranteed_ops_per_second_per_device"] = GuaranteedRatePerDevice(m);
  return j;
}
Json MessageObject(const LeaseAcceptance& m) { return FieldsJson(m); }
Json MessageObject(const EpochStart& m) {
  Json j = FieldsJson(m);
  j["epoch_seed"] = ToHex(EpochSeed(m.lease_id, m.epoch, m.beacon, m.prev_record));
  return j;
}
Json MessageObject(const EpochRecord& m) {
  Json j = FieldsJson(m);
  j["record_hash"] = ToHex(RecordHash(m));
  return j;
}
Json MessageObject(const Challenge& m) { return FieldsJson(m); }
Json MessageObject(const EpochResponse& m) { return FieldsJson(m); }
Json MessageObject(const Verdict& m) {
  Json j = FieldsJson(m);
  j["verdict"] = std::string(VerdictOutcomeName(OutcomeOf(m.reason)));
  return j;
}
Json MessageObject(const MultiProof& proof) {
  return Json{{"type", "multiproof"},
              {"tree_size", proof.tree_size},
              {"indices", proof.indices},
              {"hashes", JsonWriter::HexArray(proof.hashes)}};
}

std::string Text(const Json& j) {
  // A device name or detail given to ToJson unparsed may hold bytes that are not UTF-8: replaced, never thrown.
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

template <class M>
Result<Json> ParsedObject(Result<M> (*parse)(std::span<const uint8_t>), std::span<const uint8_t> bytes) {
  VCP_ASSIGN_OR_RETURN(M m, parse(bytes));
  return MessageObject(m);
}

Result<Json> AnyMessageObject(MessageType type, std::span<const uint8_t> bytes) {
  switch (type) {
    case MessageType::kLease: {
      VCP_ASSIGN_OR_RETURN(Lease m, ParseLease(bytes));
      Json j = MessageObject(m);
      j["signature_valid"] = CheckSignature(m).ok();
      j["parameters_valid"] = ValidateLease(m).ok();
      return j;
    }
    case MessageType::kAcceptance:
      return ParsedObject(&ParseLeaseAcceptance, bytes);
    case MessageType::kEpochStart:
      return ParsedObject(&ParseEpochStart, bytes);
    case MessageType::kRecord:
      return ParsedObject(&ParseEpochRecord, bytes);
    case MessageType::kChallenge:
      return ParsedObject(&ParseChallenge, bytes);
    case MessageType::kResponse:
      return ParsedObject(&ParseEpochResponse, bytes);
    case MessageType::kVerdict:
      return ParsedObject(&ParseVerdict, bytes);
  }
  return Status::Internal("message type " + std::to_string(static_cast<int>(type)) + " has no JSON form");
}

}  // namespace

std::string ToJson(const Lease& m) { return Text(MessageObject(m)); }
std::string ToJson(const LeaseAcceptance& m) { return Text(MessageObject(m)); }
std::string ToJson(const EpochStart& m) { return Text(MessageObject(m)); }
std::string ToJson(const EpochRecord& m) { return Text(MessageObject(m)); }
std::string ToJson(const Challenge& m) { return Text(MessageObject(m)); }
std::string ToJson(const EpochResponse& m) { return Text(MessageObject(m)); }
std::string ToJson(const Verdict& m) { return Text(MessageObject(m)); }
std::string ToJson(const MultiProof& proof) { return Text(MessageObject(proof)); }

Result<std::string> MessageJson(std::span<const uint8_t> bytes) {
  constexpr std::string_view kMultiProofMagic = "VCPM";  // docs/SPEC.md section 7.4
  Json j;
  if (bytes.size() >= 4 && std::string_view(reinterpret_cast<const char*>(bytes.data()), 4) == kMultiProofMagic) {
    VCP_ASSIGN_OR_RETURN(MultiProof proof, ParseMultiProof(bytes));
    j = MessageObject(proof);
  } else {
    Result<MessageType> type = IdentifyMessage(bytes);
    if (!type.ok()) {
      return Status::Corrupt(std::string(type.status().message()) + ", nor the multiproof file's magic VCPM");
    }
    VCP_ASSIGN_OR_RETURN(j, AnyMessageObject(*type, bytes));
  }
  j["bytes"] = bytes.size();
  return Text(j);
}

}  // namespace vcp

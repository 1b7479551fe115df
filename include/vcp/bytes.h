// vcp/bytes.h: hex text and fixed-width little-endian byte layouts, used by every format in docs/SPEC.md and
// docs/PROTOCOL.md.
//
// Ownership: ByteWriter owns its buffer; ByteReader borrows the span it reads, which must outlive it.
// Thread safety: none; use one object per thread. Errors: parsing returns Status / Result with the offset and
// what was expected; nothing throws.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vcp/status.h"
#include "vcp/export.h"

namespace vcp {

// Lower-case hex of bytes.
VCP_EXPORT std::string ToHex(std::span<const uint8_t> bytes);
// Parses hex (either case, no prefix, even length). `what` names the value in the error message.
VCP_EXPORT Result<std::vector<uint8_t>> FromHex(std::string_view hex, std::string_view what = "hex value");
// Parses exactly N bytes of hex.
template <size_t N>
Result<std::array<uint8_t, N>> FixedFromHex(std::string_view hex, std::string_view what = "hex value") {
  if (hex.size() != 2 * N) {
    return Status::InvalidArgument(std::string(what) + " must be " + std::to_string(2 * N) + " hex digits (" +
                                   std::to_string(N) + " bytes), got " + std::to_string(hex.size()) + " characters");
  }
  VCP_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, FromHex(hex, what));
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = bytes[i];
  return out;
}

// The little-endian integer in the first 2 / 4 / 8 bytes of `bytes` (the span's extent guarantees the length):
// for values that are not read field by field, such as a digest taken as a number. Everything parsed field by
// field uses ByteReader, which calls these.
inline uint16_t LoadLe16(std::span<const uint8_t, 2> bytes) {
  return static_cast<uint16_t>(bytes[0] | (uint16_t{bytes[1]} << 8));
}
inline uint32_t LoadLe32(std::span<const uint8_t, 4> bytes) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{bytes[i]} << (8 * i);
  return v;
}
inline uint64_t LoadLe64(std::span<const uint8_t, 8> bytes) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{bytes[i]} << (8 * i);
  return v;
}

// Appends fixed-width little-endian fields.
class VCP_EXPORT ByteWriter {
 public:
  void U8(uint8_t v) { bytes_.push_back(v); }
  void U16(uint16_t v) { Le(v, 2); }
  void U32(uint32_t v) { Le(v, 4); }
  void U64(uint64_t v) { Le(v, 8); }
  void Bytes(std::span<const uint8_t> b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  void Text(std::string_view s) { bytes_.insert(bytes_.end(), s.begin(), s.end()); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> bytes_;
};

// Reads fixed-width little-endian fields; every read checks the remaining length. A read past the end fails with
// kCorrupt: "<what> is truncated: <field> needs 8 bytes at offset 127 but only 3 remain"; `field` names the
// field when the caller knows it ("slack_ppm"), else the message says "a u64 field".
class VCP_EXPORT ByteReader {
 public:
  // `what` names the message being parsed in error messages ("proof file").
  ByteReader(std::span<const uint8_t> bytes, std::string_view what) : bytes_(bytes), what_(what) {}
  [[nodiscard]] Status U8(uint8_t& v, std::string_view field = {});
  [[nodiscard]] Status U16(uint16_t& v, std::string_view field = {});
  [[nodiscard]] Status U32(uint32_t& v, std::string_view field = {});
  [[nodiscard]] Status U64(uint64_t& v, std::string_view field = {});
  [[nodiscard]] Status Bytes(std::span<uint8_t> out, std::string_view field = {});
  // Checks that the next bytes equal `magic` exactly.
  [[nodiscard]] Status Expect(std::string_view magic);
  // Fails unless every byte was consumed.
  [[nodiscard]] Status ExpectEnd() const;
  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }

 private:
  // `kind` ("a u64 field") stands in for `field` when that is empty.
  Status Need(size_t n, std::string_view field, std::string_view kind) const;
  std::span<const uint8_t> bytes_;
  std::string what_;
  size_t offset_ = 0;
};

}  // namespace vcp

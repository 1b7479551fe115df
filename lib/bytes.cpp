#include "vcp/bytes.h"

#include <algorithm>

namespace vcp {

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<std::vector<uint8_t>> FromHex(std::string_view hex, std::string_view what) {
  if (hex.size() % 2 != 0) {
    return Status::InvalidArgument(std::string(what) + " has an odd number of hex digits (" +
                                   std::to_string(hex.size()) + "); hex needs two digits per byte");
  }
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      const size_t bad = hi < 0 ? 2 * i : 2 * i + 1;
      return Status::InvalidArgument(std::string(what) + " is not hex: character " + std::to_string(bad + 1) +
                                     " is '" + std::string(1, hex[bad]) + "'; allowed are 0-9, a-f, A-F");
    }
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return out;
}

Status ByteReader::Need(size_t n, std::string_view field, std::string_view kind) const {
  if (remaining() < n) {
    return Status::Corrupt(what_ + " is truncated: " + std::string(field.empty() ? kind : field) + " needs " +
                           std::to_string(n) + " bytes at offset " + std::to_string(offset_) + " but only " +
                           std::to_string(remaining()) + " remain");
  }
  return Status::Ok();
}

Status ByteReader::U8(uint8_t& v, std::string_view field) {
  VCP_RETURN_IF_ERROR(Need(1, field, "a u8 field"));
  v = bytes_[offset_++];
  return Status::Ok();
}

Status ByteReader::U16(uint16_t& v, std::string_view field) {
  VCP_RETURN_IF_ERROR(Need(2, field, "a u16 field"));
  v = LoadLe16(bytes_.subspan(offset_).first<2>());
  offset_ += 2;
  return Status::Ok();
}

Status ByteReader::U32(uint32_t& v, std::string_view field) {
  VCP_RETURN_IF_ERROR(Need(4, field, "a u32 field"));
  v = LoadLe32(bytes_.subspan(offset_).first<4>());
  offset_ += 4;
  return Status::Ok();
}

Status ByteReader::U64(uint64_t& v, std::string_view field) {
  VCP_RETURN_IF_ERROR(Need(8, field, "a u64 field"));
  v = LoadLe64(bytes_.subspan(offset_).first<8>());
  offset_ += 8;
  return Status::Ok();
}

Status ByteReader::Bytes(std::span<uint8_t> out, std::string_view field) {
  VCP_RETURN_IF_ERROR(Need(out.size(), field, "a " + std::to_string(out.size()) + "-byte field"));
  std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset_), out.size(), out.begin());
  offset_ += out.size();
  return Status::Ok();
}

Status ByteReader::Expect(std::string_view magic) {
  VCP_RETURN_IF_ERROR(Need(magic.size(), "the magic \"" + std::string(magic) + "\"", {}));
  for (size_t i = 0; i < magic.size(); ++i) {
    if (bytes_[offset_ + i] != static_cast<uint8_t>(magic[i])) {
      return Status::Corrupt(what_ + " does not start with the magic \"" + std::string(magic) + "\" (found " +
                             ToHex(bytes_.subspan(offset_, magic.size())) + "): not a " + what_);
    }
  }
  offset_ += magic.size();
  return Status::Ok();
}

Status ByteReader::ExpectEnd() const {
  if (remaining() != 0) {
    return Status::Corrupt(what_ + " has " + std::to_string(remaining()) + " trailing bytes after offset " +
                           std::to_string(offset_) + "; it must end there");
  }
  return Status::Ok();
}

}  // namespace vcp

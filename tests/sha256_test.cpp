// SHA-256 both ways vcp computes it: OpenSSL (vcp::Sha256, the CPU engine) and the portable Sha256Stream that the
// CUDA kernels run (lib/shared/sha256_portable.h). FIPS 180-4 known answers pin both; every message length
// around the block and padding boundaries and large inputs fed in odd pieces pin them to each other.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shared/sha256_portable.h"
#include "vcp/bytes.h"
#include "vcp/hash.h"

namespace vcp {
namespace {

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The portable hash of `data`, fed in pieces of `piece` bytes (0: all at once).
Hash32 Portable(std::span<const uint8_t> data, size_t piece = 0) {
  shared::Sha256Stream s;
  s.Init();
  if (piece == 0) piece = data.size() + 1;
  for (size_t at = 0; at < data.size(); at += piece) {
    const size_t len = std::min(piece, data.size() - at);
    s.Update(data.data() + at, len);
  }
  Hash32 out{};
  s.Final(out.data());
  return out;
}

// Bytes that differ at every position within a block and between blocks.
std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 131 + (i >> 8) * 7 + 1);
  return v;
}

TEST(Sha256, Fips180KnownAnswers) {
  struct Vector {
    std::string message;
    const char* digest;
  };
  const Vector vectors[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",  // 448 bits: padding spills into a second block
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const Vector& v : vectors) {
    const auto bytes = AsBytes(v.message);
    EXPECT_EQ(ToHex(Sha256(bytes)), v.digest) << "OpenSSL, length " << v.message.size();
    EXPECT_EQ(ToHex(Portable(bytes)), v.digest) << "portable, length " << v.message.size();
    EXPECT_EQ(ToHex(Portable(bytes, 7)), v.digest) << "portable in 7-byte pieces, length " << v.message.size();
    Sha256Hasher h;
    h.Update(bytes);
    EXPECT_EQ(ToHex(h.Final()), v.digest) << "Sha256Hasher, length " << v.message.size();
  }
}

TEST(Sha256, PortableEqualsOpenSslForEveryLengthUpTo300) {
  const std::vector<uint8_t> data = Pattern(300);
  for (size_t len = 0; len <= 300; ++len) {
    const std::span<const uint8_t> msg(data.data(), len);
    const Hash32 expected = Sha256(msg);
    ASSERT_EQ(Portable(msg), expected) << "length " << len;
    for (size_t piece : {1u, 3u, 55u, 56u, 63u, 64u, 65u}) {
      ASSERT_EQ(Portable(msg, piece), expected) << "length " << len << " in pieces of " << piece;
    }
  }
}

TEST(Sha256, PortableEqualsOpenSslOnLargeBuffersInOddPieces) {
  const std::vector<uint8_t> data = Pattern(size_t{1} << 20);
  for (size_t len : {size_t{1} << 20, (size_t{1} << 20) - 1, size_t{999983}}) {
    const std::span<const uint8_t> msg(data.data(), len);
    const Hash32 expected = Sha256(msg);
    for (size_t piece : {size_t{0}, size_t{1}, size_t{63}, size_t{65}, size_t{4097}, size_t{65599}}) {
      EXPECT_EQ(Portable(msg, piece), expected) << "length " << len << " in pieces of " << piece;
    }
    // Sha256Hasher streaming in uneven pieces, and reuse after Final.
    Sha256Hasher h;
    for (int round = 0; round < 2; ++round) {
      size_t at = 0, piece = 1;
      while (at < len) {
        const size_t n = std::min(piece, len - at);
        h.Update(msg.subspan(at, n));
        at += n;
        piece = piece * 3 + 1;
      }
      EXPECT_EQ(h.Final(), expected) << "Sha256Hasher round " << round << ", length " << len;
    }
  }
}

TEST(Sha256, TaggedHashKnownAnswer) {
  // By hand from the definition in vcp/hash.h: SHA-256(u8 len(tag) || tag || fields). The digest was computed
  // independently with Python's hashlib over exactly these bytes.
  const std::vector<uint8_t> fields{0x01, 0x00, 0x00, 0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88};
  EXPECT_EQ(ToHex(TaggedHash("vcp/test-tag", fields)),
            "606753a82e223c57ccf0f02f465538cd66cf02a608ad329b08779750e240d4d0");
  std::vector<uint8_t> spelled{12, 'v', 'c', 'p', '/', 't', 'e', 's', 't', '-', 't', 'a', 'g'};
  spelled.insert(spelled.end(), fields.begin(), fields.end());
  EXPECT_EQ(TaggedHash("vcp/test-tag", fields), Sha256(spelled));
  // The empty tag with no fields is SHA-256 of the single length byte 0x00, the RFC 6962 hash of an empty leaf.
  EXPECT_EQ(ToHex(TaggedHash("", {})), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  // Moving a byte between tag and fields changes the hash: the length prefix keeps the two apart.
  const std::vector<uint8_t> ab{'b'};
  EXPECT_NE(TaggedHash("a", ab), TaggedHash("ab", {}));
}

}  // namespace
}  // namespace vcp

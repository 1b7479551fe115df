// The parse-from-text entry points beside the file loaders (keys, beacon file, merkle leaf file): the loaders call
// them, and the fuzz targets (fuzz/) drive them directly. Known answers, and each refusal names what was wrong.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"
#include "vcp/beacon.h"
#include "vcp/bytes.h"
#include "vcp/keys.h"
#include "vcp/merkle.h"

namespace vcp {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

TEST(ParseKeyText, SecretAndPublicKnownAnswer) {
  std::array<uint8_t, 32> seed{};
  seed.fill(0x31);
  ASSERT_OK_AND_ASSIGN(SecretKey expected, SecretKey::FromSeed(seed));
  const std::string digits = ToHex(seed);
  for (const std::string& text : {"vcp-ed25519-secret-v1 " + digits + "\n", "vcp-ed25519-secret-v1 " + digits}) {
    ASSERT_OK_AND_ASSIGN(SecretKey key, ParseSecretKeyText(Bytes(text), "test key"));
    EXPECT_EQ(key.public_key(), expected.public_key());
  }
  const std::string pub = "vcp-ed25519-public-v1 " + ToHex(expected.public_key()) + "\n";
  ASSERT_OK_AND_ASSIGN(PublicKey key, ParsePublicKeyText(Bytes(pub), "test pub"));
  EXPECT_EQ(key, expected.public_key());
}

TEST(ParseKeyText, RefusalsNameTheTextAndTheFault) {
  const std::string digits(64, 'a');
  const struct {
    std::string text, says;
  } cases[] = {{"vcp-ed25519-public-v1 " + digits, "does not start with"},
               {"vcp-ed25519-secret-v1 " + digits.substr(0, 63), "63 hex digits"},
               {"vcp-ed25519-secret-v1 " + digits.substr(0, 10) + "x" + digits.substr(11), "non-hex character at byte 32"},
               {"vcp-ed25519-secret-v1 " + digits + "\n\n", "unexpected data after"}};
  for (const auto& c : cases) {
    Result<SecretKey> key = ParseSecretKeyText(Bytes(c.text), "the test text");
    ASSERT_FALSE(key.ok()) << c.text;
    EXPECT_EQ(key.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(key.status().message().find("the test text"), std::string::npos) << key.status().ToString();
    EXPECT_NE(key.status().message().find(c.says), std::string::npos) << key.status().ToString();
  }
  EXPECT_FALSE(ParsePublicKeyText(Bytes("vcp-ed25519-secret-v1 " + digits), "pub").ok());
}

TEST(ParseBeaconFile, KnownAnswerAndLineNumbers) {
  const std::string value(64, 'b');
  ASSERT_OK_AND_ASSIGN(BeaconFile file, ParseBeaconFile("vcp-beacon-v2 drand 100 30\n\n7 " + value + "\r\n2\t" +
                                                            std::string(64, 'C') + "\n",
                                                        "beacon file B"));
  EXPECT_EQ(file.name, "drand");
  EXPECT_EQ(file.genesis_us, 100u);
  EXPECT_EQ(file.period_us, 30u);
  ASSERT_EQ(file.values.size(), 2u);
  EXPECT_EQ(file.values[0].first, 7u);
  EXPECT_EQ(ToHex(file.values[0].second), value);
  EXPECT_EQ(file.values[1].first, 2u);
  const struct {
    std::string text, says;
  } cases[] = {{"", "empty"},
               {"vcp-beacon-v2 drand 100 0\n", "line 1"},
               {"vcp-beacon-v2 drand 100 30\n1 " + value + "\n1 " + value + "\n", "line 3: round 1 appears twice"},
               {"vcp-beacon-v2 drand 100 30\n1\n", "line 2"}};
  for (const auto& c : cases) {
    Result<BeaconFile> bad = ParseBeaconFile(c.text, "beacon file B");
    ASSERT_FALSE(bad.ok()) << c.text;
    EXPECT_EQ(bad.status().code(), StatusCode::kCorrupt);
    EXPECT_NE(bad.status().message().find("beacon file B"), std::string::npos) << bad.status().ToString();
    EXPECT_NE(bad.status().message().find(c.says), std::string::npos) << bad.status().ToString();
  }
}

TEST(ParseMerkleLeafFile, KnownAnswerAndBlankLine) {
  ASSERT_OK_AND_ASSIGN(auto leaves, ParseMerkleLeafFile("00\n-\r\nABff", "leaves L"));
  ASSERT_EQ(leaves.size(), 3u);
  EXPECT_EQ(leaves[0], std::vector<uint8_t>{0x00});
  EXPECT_TRUE(leaves[1].empty());
  EXPECT_EQ(leaves[2], (std::vector<uint8_t>{0xab, 0xff}));
  ASSERT_OK_AND_ASSIGN(auto none, ParseMerkleLeafFile("", "leaves L"));
  EXPECT_TRUE(none.empty());
  Result<std::vector<std::vector<uint8_t>>> blank = ParseMerkleLeafFile("00\n\n01\n", "leaves L");
  ASSERT_FALSE(blank.ok());
  EXPECT_NE(blank.status().message().find("leaves L line 2 is blank"), std::string::npos) << blank.status().ToString();
  EXPECT_FALSE(ParseMerkleLeafFile("0g\n", "leaves L").ok());
  ASSERT_OK_AND_ASSIGN(auto empty_leaf, ParseMerkleLeaf("-", "--leaf"));
  EXPECT_TRUE(empty_leaf.empty());
}

}  // namespace
}  // namespace vcp

// Ed25519 keys (vcp/keys.h) and the file helpers they are stored with (lib/fileio.h).
#include "vcp/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fileio.h"
#include "test_util.h"
#include "vcp/bytes.h"

namespace vcp {
namespace {

namespace fs = std::filesystem;

// RFC 8032 section 7.1, TEST 1: the empty message.
constexpr std::string_view kRfcSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24"
    "655141438e7a100b";

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

SecretKey RfcKey() {
  auto seed = FixedFromHex<32>(kRfcSeed);
  EXPECT_TRUE(seed.ok()) << seed.status().ToString();
  auto key = SecretKey::FromSeed(*seed);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

void WriteText(const fs::path& path, std::string_view text, fs::perms mode = fs::perms::owner_read |
                                                                            fs::perms::owner_write) {
  std::ofstream(path, std::ios::binary) << text;
  fs::permissions(path, mode);
}

std::vector<std::string> ListDir(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

mode_t ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vcp::testing::MakeTempDir("vcp_keys_test_");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// ---- signatures ----

TEST(Keys, FromSeedMatchesRfc8032Test1) {
  SecretKey key = RfcKey();
  EXPECT_EQ(ToHex(key.public_key()), kRfcPublic);
  const Signature sig = key.Sign({});
  EXPECT_EQ(ToHex(sig), kRfcSignature);
  EXPECT_TRUE(VerifySignature(key.public_key(), {}, sig).ok());
}

TEST(Keys, GeneratedKeysDifferAndSignaturesAreDeterministic) {
  auto a = SecretKey::Generate();
  auto b = SecretKey::Generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->public_key(), b->public_key());
  const auto msg = AsBytes("commitment");
  // Ed25519 derives its nonce from the key and message, so signing twice gives the same bits.
  EXPECT_EQ(a->Sign(msg), a->Sign(msg));
  EXPECT_NE(a->Sign(msg), b->Sign(msg));
}

TEST(Keys, EveryFlippedSignatureByteIsRejected) {
  SecretKey key = RfcKey();
  const auto msg = AsBytes("tile 17 of run 3");
  const Signature sig = key.Sign(msg);
  ASSERT_TRUE(VerifySignature(key.public_key(), msg, sig).ok());
  for (size_t i = 0; i < kSignatureBytes; ++i) {
    for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
      Signature bad = sig;
      bad[i] ^= bit;
      Status s = VerifySignature(key.public_key(), msg, bad);
      EXPECT_EQ(s.code(), StatusCode::kRejected) << "byte " << i << " bit " << int(bit);
    }
  }
}

TEST(Keys, FlippedMessageByteAndWrongKeyAreRejected) {
  SecretKey key = RfcKey();
  const std::string msg = "tile 17 of run 3";
  const Signature sig = key.Sign(AsBytes(msg));
  for (size_t i = 0; i < msg.size(); ++i) {
    std::string bad = msg;
    bad[i] = static_cast<char>(bad[i] ^ 1);
    EXPECT_EQ(VerifySignature(key.public_key(), AsBytes(bad), sig).code(), StatusCode::kRejected) << i;
  }
  EXPECT_EQ(VerifySignature(key.public_key(), AsBytes(msg + "x"), sig).code(), StatusCode::kRejected);
  EXPECT_EQ(VerifySignature(key.public_key(), AsBytes(msg.substr(1)), sig).code(), StatusCode::kRejected);

  auto other = SecretKey::Generate();
  ASSERT_TRUE(other.ok());
  Status s = VerifySignature(other->public_key(), AsBytes(msg), sig);
  EXPECT_EQ(s.code(), StatusCode::kRejected);
  // The message names the key it was checked against.
  EXPECT_NE(s.message().find("does not verify under public key " + ToHex(other->public_key()).substr(0, 16)),
            std::string_view::npos)
      << s.message();
}

TEST(Keys, MovedFromKeyFailsClosed) {
  SecretKey key = RfcKey();
  SecretKey moved = std::move(key);
  const auto msg = AsBytes("m");
  EXPECT_TRUE(VerifySignature(moved.public_key(), msg, moved.Sign(msg)).ok());
  // NOLINTNEXTLINE(bugprone-use-after-move): the point of the test.
  EXPECT_EQ(VerifySignature(key.public_key(), msg, key.Sign(msg)).code(), StatusCode::kRejected);
  const fs::path dir = vcp::testing::MakeTempDir("vcp_keys_moved_");
  EXPECT_EQ(SaveKeyPair(key, dir).code(), StatusCode::kInvalidArgument);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(Keys, SignsFromManyThreadsAtOnce) {
  SecretKey key = RfcKey();
  const auto msg = AsBytes("shared");
  const Signature expected = key.Sign(msg);
  std::vector<Signature> got(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) got[t] = key.Sign(msg);
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& sig : got) EXPECT_EQ(sig, expected);
}

// ---- key files ----

using KeyFiles = TempDirTest;

TEST_F(KeyFiles, SaveLoadSignVerifyRoundTrip) {
  auto key = SecretKey::Generate();
  ASSERT_TRUE(key.ok());
  const fs::path dir = dir_ / "a" / "keys";  // missing parents are created too
  ASSERT_TRUE(SaveKeyPair(*key, dir).ok());
  EXPECT_EQ(ListDir(dir), (std::vector<std::string>{"vcp.key", "vcp.pub"}));
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir / "vcp.key"), 0600u);
  EXPECT_EQ(ModeOf(dir / "vcp.pub"), 0644u);

  const std::string pub_text = vcp::testing::ReadText(dir / "vcp.pub");
  EXPECT_EQ(pub_text, "vcp-ed25519-public-v1 " + ToHex(key->public_key()) + "\n");
  const std::string secret_text = vcp::testing::ReadText(dir / "vcp.key");
  ASSERT_EQ(secret_text.size(), 22u + 64u + 1u);
  EXPECT_EQ(secret_text.substr(0, 22), "vcp-ed25519-secret-v1 ");
  EXPECT_EQ(secret_text.back(), '\n');

  auto loaded = LoadSecretKey(dir / "vcp.key");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto pub = LoadPublicKey(dir / "vcp.pub");
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(loaded->public_key(), key->public_key());
  EXPECT_EQ(*pub, key->public_key());

  const auto msg = AsBytes("round trip");
  EXPECT_EQ(loaded->Sign(msg), key->Sign(msg));
  EXPECT_TRUE(VerifySignature(*pub, msg, loaded->Sign(msg)).ok());
}

TEST_F(KeyFiles, SecretFileHoldsTheSeed) {
  // The file stores the RFC seed itself, so the format is pinned by a known answer, and a hand-written file with
  // upper-case hex and no newline loads to the same key.
  SecretKey key = RfcKey();
  ASSERT_TRUE(SaveKeyPair(key, dir_).ok());
  EXPECT_EQ(vcp::testing::ReadText(dir_ / "vcp.key"), "vcp-ed25519-secret-v1 " + std::string(kRfcSeed) + "\n");
  EXPECT_EQ(vcp::testing::ReadText(dir_ / "vcp.pub"), "vcp-ed25519-public-v1 " + std::string(kRfcPublic) + "\n");

  std::string upper(kRfcSeed);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  WriteText(dir_ / "hand.key", "vcp-ed25519-secret-v1 " + upper);
  auto loaded = LoadSecretKey(dir_ / "hand.key");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(ToHex(loaded->public_key()), kRfcPublic);
}

TEST_F(KeyFiles, RefusesGroupOrWorldAccessibleSecretKey) {
  SecretKey key = RfcKey();
  ASSERT_TRUE(SaveKeyPair(key, dir_).ok());
  const fs::path file = dir_ / "vcp.key";
  // Tests run as root, which can read any file: what is checked is the mode, not the OS permission.
  for (mode_t mode : {0644u, 0640u, 0604u, 0620u, 0601u, 0660u}) {
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    auto loaded = LoadSecretKey(file);
    ASSERT_FALSE(loaded.ok()) << std::oct << mode;
    const std::string msg(loaded.status().message());
    char mode_text[8];
    std::snprintf(mode_text, sizeof mode_text, "%04o", mode);
    EXPECT_NE(msg.find("has mode " + std::string(mode_text)), std::string::npos) << msg;
    EXPECT_NE(msg.find("chmod 600 " + file.string()), std::string::npos) << msg;
  }
  for (mode_t mode : {0600u, 0400u}) {
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    EXPECT_TRUE(LoadSecretKey(file).ok()) << std::oct << mode;
  }
}

TEST_F(KeyFiles, RefusesToOverwriteEitherFile) {
  SecretKey first = RfcKey();
  ASSERT_TRUE(SaveKeyPair(first, dir_).ok());
  const std::string secret_before = vcp::testing::ReadText(dir_ / "vcp.key");
  auto second = SecretKey::Generate();
  ASSERT_TRUE(second.ok());

  Status s = SaveKeyPair(*second, dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "a wrong --out, not an I/O failure";
  EXPECT_NE(s.message().find((dir_ / "vcp.key").string()), std::string_view::npos) << s.message();
  EXPECT_EQ(vcp::testing::ReadText(dir_ / "vcp.key"), secret_before);

  // Only the public file present: still refused, naming it, and no secret key is written beside it.
  const fs::path other = dir_ / "other";
  fs::create_directory(other);
  WriteText(other / "vcp.pub", "x");
  s = SaveKeyPair(*second, other);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find((other / "vcp.pub").string()), std::string_view::npos) << s.message();
  EXPECT_EQ(ListDir(other), (std::vector<std::string>{"vcp.pub"}));

  // DIR exists as a regular file.
  WriteText(dir_ / "plain", "x");
  EXPECT_FALSE(SaveKeyPair(*second, dir_ / "plain").ok());
}

TEST_F(KeyFiles, MalformedSecretKeyFilesAreRejected) {
  const std::string seed(kRfcSeed);
  struct Case {
    std::string text;
    std::string expect;  // a fragment the message must contain
  };
  const std::vector<Case> cases = {
      {"", "does not start with \"vcp-ed25519-secret-v1 \""},
      {"vcp-ed25519-secret-v2 " + seed + "\n", "does not start with"},
      {"vcp-ed25519-secret-v1" + seed + "\n", "does not start with"},
      {"vcp-ed25519-secret-v1  " + seed + "\n", "non-hex character at byte 22"},
      {"vcp-ed25519-secret-v1 " + seed.substr(0, 62) + "\n", "holds 62 hex digits"},
      {"vcp-ed25519-secret-v1 " + seed.substr(0, 63) + "\n", "holds 63 hex digits"},
      {"vcp-ed25519-secret-v1 " + seed.substr(0, 63), "holds 63 hex digits"},
      {"vcp-ed25519-secret-v1 ", "holds 0 hex digits"},
      {"vcp-ed25519-secret-v1 " + seed.substr(0, 10) + "g" + seed.substr(11) + "\n", "non-hex character at byte 32"},
      {"vcp-ed25519-secret-v1 " + seed.substr(0, 11) + "z" + seed.substr(12) + "\n", "non-hex character at byte 33"},
      {"vcp-ed25519-secret-v1 " + seed + "00\n", "unexpected data after the 64 hex digits"},
      {"vcp-ed25519-secret-v1 " + seed + "\n\n", "unexpected data after the 64 hex digits"},
      {"vcp-ed25519-secret-v1 " + seed + " \n", "unexpected data after the 64 hex digits"},
      {"vcp-ed25519-secret-v1 " + seed + "\r\n", "unexpected data after the 64 hex digits"},
      {"vcp-ed25519-secret-v1 " + seed + "\n" + std::string(4000, 'x'), "unexpected data after the 64 hex digits"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const fs::path file = dir_ / ("bad" + std::to_string(i) + ".key");
    WriteText(file, cases[i].text);
    auto loaded = LoadSecretKey(file);
    ASSERT_FALSE(loaded.ok()) << "case " << i;
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt) << "case " << i;
    const std::string msg(loaded.status().message());
    EXPECT_NE(msg.find(cases[i].expect), std::string::npos) << "case " << i << ": " << msg;
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    // The message describes the format but never echoes the file's contents.
    EXPECT_EQ(msg.find(seed.substr(0, 16)), std::string::npos) << msg;
  }
  // The valid text with and without its newline, for contrast.
  WriteText(dir_ / "good1.key", "vcp-ed25519-secret-v1 " + seed + "\n");
  WriteText(dir_ / "good2.key", "vcp-ed25519-secret-v1 " + seed);
  EXPECT_TRUE(LoadSecretKey(dir_ / "good1.key").ok());
  EXPECT_TRUE(LoadSecretKey(dir_ / "good2.key").ok());
}

TEST_F(KeyFiles, MalformedPublicKeyFilesAreRejected) {
  const std::string pub(kRfcPublic);
  const std::vector<std::string> bad = {
      "",
      "vcp-ed25519-secret-v1 " + pub + "\n",
      "vcp-ed25519-public-v1 " + pub.substr(0, 60) + "\n",
      "vcp-ed25519-public-v1 " + pub.substr(0, 5) + "#" + pub.substr(6) + "\n",
      "vcp-ed25519-public-v1 " + pub + "\nextra",
      "vcp-ed25519-public-v1 " + pub + std::string(5000, '0'),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    const fs::path file = dir_ / ("bad" + std::to_string(i) + ".pub");
    WriteText(file, bad[i]);
    auto loaded = LoadPublicKey(file);
    ASSERT_FALSE(loaded.ok()) << "case " << i;
    EXPECT_NE(loaded.status().message().find(file.string()), std::string_view::npos) << loaded.status().message();
  }
  WriteText(dir_ / "good.pub", "vcp-ed25519-public-v1 " + pub + "\n");
  auto good = LoadPublicKey(dir_ / "good.pub");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(ToHex(*good), kRfcPublic);
}

TEST_F(KeyFiles, APublicKeyGivenForTheSecretKeySaysSoWithoutChmodAdvice) {
  SecretKey key = RfcKey();
  ASSERT_OK(SaveKeyPair(key, dir_));
  const fs::path pub = dir_ / "vcp.pub";
  // Mode 0644 (as written) would otherwise get chmod advice; 0600 would otherwise get "does not start with".
  for (mode_t mode : {0644u, 0600u}) {
    ASSERT_EQ(::chmod(pub.c_str(), mode), 0);
    for (const Result<SecretKey>& loaded : {LoadSecretKey(pub), ResolveSecretKey(pub.string())}) {
      ASSERT_FALSE(loaded.ok()) << std::oct << mode;
      EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
      const std::string msg(loaded.status().message());
      EXPECT_NE(msg.find(pub.string() + " is a public key"), std::string::npos) << msg;
      EXPECT_NE(msg.find("secret key file vcp.key written by vcp keygen"), std::string::npos) << msg;
      EXPECT_EQ(msg.find("chmod"), std::string::npos) << msg;
    }
  }
}

TEST_F(KeyFiles, ASecretKeyGivenForThePublicKeyIsRefusedWithoutEchoingIt) {
  SecretKey key = RfcKey();
  ASSERT_OK(SaveKeyPair(key, dir_));
  const fs::path secret = dir_ / "vcp.key";
  for (const Result<PublicKey>& loaded : {LoadPublicKey(secret), ResolvePublicKey(secret.string())}) {
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
    const std::string msg(loaded.status().message());
    EXPECT_NE(msg.find(secret.string() + " is a secret key; a public key is expected here"), std::string::npos)
        << msg;
    EXPECT_EQ(msg.find(std::string(kRfcSeed).substr(0, 16)), std::string::npos) << msg;
  }
}

TEST_F(KeyFiles, ResolveSecretKeyTakesTheFileOrItsDirectory) {
  SecretKey key = RfcKey();
  ASSERT_OK(SaveKeyPair(key, dir_));
  ASSERT_OK_AND_ASSIGN(SecretKey from_dir, ResolveSecretKey(dir_.string()));
  EXPECT_EQ(ToHex(from_dir.public_key()), kRfcPublic);
  ASSERT_OK_AND_ASSIGN(SecretKey from_file, ResolveSecretKey((dir_ / "vcp.key").string()));
  EXPECT_EQ(ToHex(from_file.public_key()), kRfcPublic);

  fs::create_directory(dir_ / "empty");
  const Result<SecretKey> none = ResolveSecretKey((dir_ / "empty").string());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("holds no vcp.key"), std::string_view::npos) << none.status().message();
  EXPECT_EQ(ResolveSecretKey("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveSecretKey((dir_ / "absent.key").string()).status().code(), StatusCode::kIoError);
  // The mode check still applies through a directory.
  ASSERT_EQ(::chmod((dir_ / "vcp.key").c_str(), 0644), 0);
  const Result<SecretKey> open = ResolveSecretKey(dir_.string());
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("chmod 600"), std::string_view::npos) << open.status().message();
}

TEST_F(KeyFiles, ResolvePublicKeyTakesTheHexKeygenPrintsAFileOrADirectory) {
  SecretKey key = RfcKey();
  ASSERT_OK(SaveKeyPair(key, dir_));
  std::string upper(kRfcPublic);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& argument :
       {std::string(kRfcPublic), upper, dir_.string(), (dir_ / "vcp.pub").string()}) {
    ASSERT_OK_AND_ASSIGN(PublicKey pub, ResolvePublicKey(argument));
    EXPECT_EQ(pub, key.public_key()) << argument;
  }

  const struct {
    std::string argument, expect;
  } bad[] = {
      {std::string(kRfcPublic).substr(0, 63), "has 63 hex digits; a public key in hex has 64"},
      {std::string(kRfcPublic) + "00", "has 66 hex digits"},
      {(dir_ / "absent.pub").string(), "is not 64 hex digits and no such file or directory exists"},
      {"", "is not 64 hex digits"},
  };
  for (const auto& b : bad) {
    const Result<PublicKey> r = ResolvePublicKey(b.argument);
    ASSERT_FALSE(r.ok()) << b.argument;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << b.argument;
    EXPECT_NE(r.status().message().find(b.expect), std::string_view::npos) << r.status().message();
  }
  fs::create_directory(dir_ / "empty");
  const Result<PublicKey> none = ResolvePublicKey((dir_ / "empty").string());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("holds no vcp.pub"), std::string_view::npos) << none.status().message();
  // A file that exists but is no key file is corrupt input, named as such.
  WriteText(dir_ / "notes.txt", "hello\n");
  EXPECT_EQ(ResolvePublicKey((dir_ / "notes.txt").string()).status().code(), StatusCode::kCorrupt);
}

TEST_F(KeyFiles, MissingFilesNameThePath) {
  auto secret = LoadSecretKey(dir_ / "nope.key");
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().code(), StatusCode::kIoError);
  EXPECT_NE(secret.status().message().find((dir_ / "nope.key").string()), std::string_view::npos);
  EXPECT_NE(secret.status().message().find("No such file or directory"), std::string_view::npos);
  auto pub = LoadPublicKey(dir_ / "nope.pub");
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.status().message().find((dir_ / "nope.pub").string()), std::string_view::npos);
  // A directory is not a key file.
  EXPECT_FALSE(LoadSecretKey(dir_).ok());
}

// ---- fileio ----

using FileIo = TempDirTest;

TEST_F(FileIo, AtomicWriteLeavesOnlyTheFinalFile) {
  const fs::path path = dir_ / "out.bin";
  const std::vector<uint8_t> first = {1, 2, 3};
  const std::vector<uint8_t> second(100000, 7);
  ASSERT_TRUE(WriteFileAtomic(path, first, 0640).ok());
  EXPECT_EQ(ModeOf(path), 0640u);
  ASSERT_TRUE(WriteFileAtomic(path, second).ok());  // overwrite defaults to true
  EXPECT_EQ(ModeOf(path), 0644u);
  EXPECT_EQ(ListDir(dir_), (std::vector<std::string>{"out.bin"}));
  auto read = ReadFileBytes(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, second);

  ASSERT_TRUE(WriteFileAtomic(dir_ / "empty", std::string()).ok());
  auto empty = ReadFileBytes(dir_ / "empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(ListDir(dir_), (std::vector<std::string>{"empty", "out.bin"}));
}

TEST_F(FileIo, NoOverwriteRefusesAndKeepsTheOldFile) {
  const fs::path path = dir_ / "keep.txt";
  ASSERT_TRUE(WriteFileAtomic(path, std::string("old"), 0644, false).ok());
  Status s = WriteFileAtomic(path, std::string("new"), 0644, false);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("refusing to overwrite"), std::string_view::npos) << s.message();
  EXPECT_NE(s.message().find(path.string()), std::string_view::npos) << s.message();
  EXPECT_EQ(vcp::testing::ReadText(path), "old");
  EXPECT_EQ(ListDir(dir_), (std::vector<std::string>{"keep.txt"}));
}

TEST_F(FileIo, FailedWriteLeavesNothing) {
  // The target is an existing directory: rename(2) refuses to replace it, and the temporary must be removed.
  fs::create_directory(dir_ / "sub");
  Status s = WriteFileAtomic(dir_ / "sub", std::string("data"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(ListDir(dir_), (std::vector<std::string>{"sub"}));
  // A missing directory: nothing can be created, and the message names it.
  s = WriteFileAtomic(dir_ / "missing" / "f", std::string("data"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find((dir_ / "missing").string()), std::string_view::npos) << s.message();
}

TEST_F(FileIo, ReadErrorsNameThePathAndReason) {
  const fs::path missing = dir_ / "missing.bin";
  auto r = ReadFileBytes(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find(missing.string()), std::string_view::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("No such file or directory"), std::string_view::npos);

  auto d = ReadFileBytes(dir_);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("Is a directory"), std::string_view::npos) << d.status().message();
}

TEST_F(FileIo, SizeCapIsEnforced) {
  const fs::path path = dir_ / "ten.bin";
  ASSERT_TRUE(WriteFileAtomic(path, std::string("0123456789")).ok());
  EXPECT_TRUE(ReadFileBytes(path, 10).ok());
  auto r = ReadFileBytes(path, 9);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("limit of 9 bytes"), std::string_view::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(path.string()), std::string_view::npos);
  // A stream whose size is unknown up front (st_size is 0) is capped while reading.
  auto stream = ReadFileBytes("/dev/zero", 100000);
  ASSERT_FALSE(stream.ok());
  EXPECT_NE(stream.status().message().find("limit of 100000 bytes"), std::string_view::npos);
}

TEST_F(FileIo, AppendIsCumulative) {
  const fs::path path = dir_ / "log";
  ASSERT_TRUE(AppendFileDurable(path, AsBytes("ab")).ok());
  ASSERT_TRUE(AppendFileDurable(path, AsBytes("")).ok());
  ASSERT_TRUE(AppendFileDurable(path, AsBytes("cde")).ok());
  EXPECT_EQ(vcp::testing::ReadText(path), "abcde");
  EXPECT_FALSE(AppendFileDurable(dir_ / "missing" / "log", AsBytes("x")).ok());
}

}  // namespace
}  // namespace vcp

// Status and Result<T> (include/vcp/status.h): the text every error line is built from, and the rule that a
// Result holds exactly one of a value and a failed Status.
#include "vcp/status.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace vcp {
namespace {

TEST(Status, OkIsOkAndSaysSo) {
  const Status ok = Status::Ok();
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.code(), StatusCode::kOk);
  EXPECT_EQ(ok.message(), "");
  EXPECT_EQ(ok.ToString(), "OK");
  EXPECT_TRUE(Status().ok());
}

TEST(Status, EveryFactoryKeepsItsCodeAndMessage) {
  struct Case {
    Status status;
    StatusCode code;
    const char* text;
  };
  const std::vector<Case> cases = {
      {Status::InvalidArgument("m"), StatusCode::kInvalidArgument, "invalid argument: m"},
      {Status::IoError("m"), StatusCode::kIoError, "I/O error: m"},
      {Status::Corrupt("m"), StatusCode::kCorrupt, "corrupt data: m"},
      {Status::Rejected("m"), StatusCode::kRejected, "rejected: m"},
      {Status::Unavailable("m"), StatusCode::kUnavailable, "unavailable: m"},
      {Status::ResourceExhausted("m"), StatusCode::kResourceExhausted, "resource exhausted: m"},
      {Status::Internal("m"), StatusCode::kInternal, "internal error: m"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.status.ok()) << c.text;
    EXPECT_EQ(c.status.code(), c.code) << c.text;
    EXPECT_EQ(c.status.message(), "m") << c.text;
    EXPECT_EQ(c.status.ToString(), c.text);
    EXPECT_EQ(std::string(StatusCodeName(c.code)) + ": m", c.text);
  }
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
}

TEST(Status, AFailureWithAnEmptyMessageIsStillAFailure) {
  const Status s = Status::Internal("");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(), "internal error: ");
}

TEST(Status, WithContextPrefixesTheMessageAndKeepsTheCode) {
  const Status s = Status::Corrupt("bad magic").WithContext("reading proof.bin");
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_EQ(s.message(), "reading proof.bin: bad magic");
  // Nested context reads outermost first.
  EXPECT_EQ(s.WithContext("vcp merkle verify").message(), "vcp merkle verify: reading proof.bin: bad magic");
  // The original is a value and stays as it was.
  const Status original = Status::IoError("gone");
  const Status wrapped = original.WithContext("x");
  EXPECT_EQ(original.message(), "gone");
  EXPECT_EQ(wrapped.message(), "x: gone");
}

TEST(Status, WithContextOnOkStaysOk) {
  const Status s = Status::Ok().WithContext("reading proof.bin");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(Result, HoldsAValue) {
  Result<std::string> r = std::string("seven");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value(), "seven");
  EXPECT_EQ(*r, "seven");
  EXPECT_EQ(r->size(), 5u);
  const std::string moved = std::move(r).value();
  EXPECT_EQ(moved, "seven");
}

TEST(Result, HoldsAMoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(42);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> p, std::move(r));
  EXPECT_EQ(*p, 42);
}

TEST(Result, HoldsAFailedStatus) {
  const Result<int> r = Status::Rejected("tile 3 differs");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kRejected);
  EXPECT_EQ(r.status().message(), "tile 3 differs");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  VCP_ASSIGN_OR_RETURN(int half, Half(x));
  VCP_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int x) {
  VCP_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(Result, MacrosPassValuesOnAndReturnTheFirstError) {
  ASSERT_OK_AND_ASSIGN(int q, Quarter(12));
  EXPECT_EQ(q, 3);
  const Result<int> odd = Quarter(6);  // 6 -> 3, and 3 is odd
  EXPECT_EQ(odd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(odd.status().message(), "3 is odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).message(), "5 is odd");
}

constexpr const char* kOkWithoutValue = "a Result was built from an OK status without a value";

#ifdef NDEBUG
// Release builds: the broken Result turns into an error instead of an "ok" Result with no value.
TEST(Result, BuiltFromAnOkStatusIsAnInternalError) {
  const Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().message(), kOkWithoutValue);
}
#else
// Debug builds: both misuses stop at an assertion naming the mistake.
TEST(ResultDeathTest, BuiltFromAnOkStatusAsserts) {
  EXPECT_DEATH({ const Result<int> r = Status::Ok(); (void)r; }, kOkWithoutValue);
}

TEST(ResultDeathTest, ValueOfAFailedResultAsserts) {
  const Result<int> r = Status::IoError("no such file");
  EXPECT_DEATH((void)r.value(), "value\\(\\) of a failed Result");
  EXPECT_DEATH((void)*r, "value\\(\\) of a failed Result");
  const Result<std::string> s = Status::IoError("no such file");
  EXPECT_DEATH((void)s->size(), "value\\(\\) of a failed Result");
}
#endif

}  // namespace
}  // namespace vcp

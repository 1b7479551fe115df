// The verifier's clock jumping (docs/PROTOCOL.md sections 9, 10.3 to 10.5): an injected clock steps backwards
// before an open epoch's start or forwards past its deadline or response wait, and the session does exactly what
// the document promises, to the microsecond. The service-level jumps (a record in flight while verifierd's clock
// steps) are in service_fault_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "protocol_fixture.h"
#include "test_util.h"
#include "vcp/lease_session.h"
#include "vcp/protocol.h"

namespace vcp {
namespace {

using testing::kTinyDeadlineUs;
using testing::Parties;

// The provider's record for `start`, proven on its store.
EpochRecord Prove(Parties& p, const EpochStart& start) {
  ProviderSession provider = p.P();
  return testing::Must(provider.Prove(start, p.provider, p.poptions), "Prove").record;
}

// Section 9: arrival < start on the verifier's clock closes the epoch void-clock (no window can be measured);
// the record is authentic, so it stays the chain head; the report counts the epoch void, neither pass nor fail.
TEST(ClockJump, BackwardsBeforeTheStartVoidsTheRecordVoidClock) {
  Parties p;
  VerifierSession v = p.V();
  ASSERT_OK_AND_ASSIGN(const EpochStart start, v.StartEpoch(p.verifier, EpochSchedule::kOnDemand));
  const EpochRecord record = Prove(p, start);
  p.clock.Set(start.start_us - 1);  // one microsecond before the start
  ASSERT_OK_AND_ASSIGN(const RecordOutcome outcome, v.ReceiveRecord(Serialize(record), p.verifier));
  ASSERT_TRUE(outcome.verdict.has_value()) << outcome.finding.detail;
  EXPECT_EQ(outcome.verdict->reason, Reason::kVoidClock);
  EXPECT_FALSE(outcome.challenge.has_value());
  EXPECT_NE(outcome.finding.detail.find("backwards"), std::string::npos) << outcome.finding.detail;

  const LeaseReport report = v.Report(p.clock.NowMicros());
  EXPECT_EQ(report.void_epochs, 1u);
  EXPECT_EQ(report.on_demand.closed(), 0u);
  EXPECT_EQ(report.scheduled.closed(), 0u);

  // The clock is right again: the next epoch chains to the voided record, and passes.
  p.clock.Set(start.start_us + 2 * kTinyDeadlineUs);
  ASSERT_OK_AND_ASSIGN(const EpochStart next, v.StartEpoch(p.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(next.prev_record, RecordHash(record));
  EXPECT_EQ(next.epoch, 1u);
  const EpochRecord next_record = Prove(p, next);
  p.clock.Advance(1000);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome accepted, v.ReceiveRecord(Serialize(next_record), p.verifier));
  EXPECT_TRUE(accepted.finding.ok()) << accepted.finding.detail;
  EXPECT_TRUE(accepted.challenge.has_value());
}

// Section 10.4: void-clock without an arrival is allowed while the clock reads before the epoch's start (or once
// the deadline passed); void-verifier-down only after the deadline; neither within a working deadline.
TEST(ClockJump, VoidClockIsAllowedOnlyWhileTheClockIsBehindOrTheDeadlinePassed) {
  Parties p;
  VerifierSession v = p.V();
  ASSERT_OK_AND_ASSIGN(const EpochStart start, v.StartEpoch(p.verifier, EpochSchedule::kOnDemand));
  p.clock.Set(start.start_us + kTinyDeadlineUs);  // the last microsecond of the deadline
  EXPECT_EQ(v.VoidEpoch(Reason::kVoidClock, "", p.verifier).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v.VoidEpoch(Reason::kVoidVerifierDown, "", p.verifier).status().code(), StatusCode::kInvalidArgument);
  p.clock.Set(start.start_us - 5'000'000);  // stepped back 5 s
  EXPECT_EQ(v.VoidEpoch(Reason::kVoidVerifierDown, "", p.verifier).status().code(), StatusCode::kInvalidArgument)
      << "void-verifier-down while the deadline has not passed on the verifier's clock";
  // While behind, the open epoch is handed out again (idempotent), never a second epoch.
  ASSERT_OK_AND_ASSIGN(const EpochStart again, v.StartEpoch(p.verifier, EpochSchedule::kOnDemand));
  EXPECT_EQ(Serialize(again), Serialize(start));
  EXPECT_EQ(v.epochs().size(), 1u);
  ASSERT_OK_AND_ASSIGN(const Verdict voided, v.VoidEpoch(Reason::kVoidClock, "NTP stepped back", p.verifier));
  EXPECT_EQ(voided.reason, Reason::kVoidClock);
  EXPECT_EQ(voided.arrival_us, 0u);
  EXPECT_NE(voided.detail.find("NTP stepped back"), std::string::npos) << voided.detail;
}

// Section 9 and 10.5: a forward jump to exactly the deadline still counts (arrival - start <= deadline); one
// microsecond more is late, closed at once, with both figures in microseconds.
TEST(ClockJump, ForwardsToTheDeadlineIsOnTimeAndOneMicrosecondMoreIsLate) {
  Parties p;
  VerifierSession v = p.V();
  ASSERT_OK_AND_ASSIGN(const EpochStart first, v.StartEpoch(p.verifier, EpochSchedule::kOnDemand));
  const EpochRecord first_record = Prove(p, first);
  p.clock.Set(first.start_us + kTinyDeadlineUs);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome on_time, v.ReceiveRecord(Serialize(first_record), p.verifier));
  EXPECT_TRUE(on_time.finding.ok()) << on_time.finding.detail;
  EXPECT_FALSE(on_time.verdict.has_value());
  ASSERT_TRUE(on_time.challenge.has_value());

  // The next start closes the first no-response; its record then arrives 1 us over.
  p.clock.Advance(1);
  ASSERT_OK_AND_ASSIGN(const EpochStart second, v.StartEpoch(p.verifier, EpochSchedule::kOnDemand));
  ASSERT_TRUE(v.epochs()[0].verdict.has_value());
  EXPECT_EQ(v.epochs()[0].verdict->reason, Reason::kNoResponse);
  const EpochRecord second_record = Prove(p, second);
  p.clock.Set(second.start_us + kTinyDeadlineUs + 1);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome late, v.ReceiveRecord(Serialize(second_record), p.verifier));
  ASSERT_TRUE(late.verdict.has_value()) << late.finding.detail;
  EXPECT_EQ(late.verdict->reason, Reason::kLate);
  EXPECT_EQ(late.verdict->arrival_us - late.verdict->start_us, kTinyDeadlineUs + 1);
  EXPECT_NE(late.finding.detail.find(std::to_string(kTinyDeadlineUs + 1) + " us"), std::string::npos)
      << late.finding.detail;
  EXPECT_EQ(late.verdict->operations, 0u);
}

// Section 10.5: with no next start, a forward jump closes the open epoch missed once its deadline has passed,
// not a microsecond earlier; a record arriving after that finds no open epoch.
TEST(ClockJump, ForwardsPastTheDeadlineWithoutARecordClosesMissed) {
  Parties p;
  VerifierSession v = p.V();
  ASSERT_OK_AND_ASSIGN(const EpochStart start, v.StartEpoch(p.verifier, EpochSchedule::kOnDemand));
  const EpochRecord record = Prove(p, start);
  p.clock.Set(start.start_us + kTinyDeadlineUs);
  ASSERT_OK_AND_ASSIGN(std::optional<Verdict> early, v.CloseOverdueEpoch(p.verifier, 1'000'000));
  EXPECT_FALSE(early.has_value()) << "closed at the deadline's last microsecond";
  p.clock.Advance(1);
  ASSERT_OK_AND_ASSIGN(std::optional<Verdict> missed, v.CloseOverdueEpoch(p.verifier, 1'000'000));
  ASSERT_TRUE(missed.has_value());
  EXPECT_EQ(missed->reason, Reason::kMissed);
  EXPECT_EQ(missed->arrival_us, 0u);
  Result<RecordOutcome> after = v.ReceiveRecord(Serialize(record), p.verifier);
  EXPECT_EQ(after.status().code(), StatusCode::kInvalidArgument) << "a record after the missed verdict was taken";
  // The same jump seen through a reopened store: the verdict is logged, counted once.
  { VerifierSession closing = std::move(v); }  // releases the store's lock
  VerifierSession reopened = p.V();
  ASSERT_EQ(reopened.verdicts().size(), 1u);
  EXPECT_EQ(reopened.Report(p.clock.NowMicros()).on_demand.missed, 1u);
}

// Section 10.5: a record that arrived, then a forward jump past the response wait: no-response, counted from the
// arrival, not a microsecond earlier; the response arriving after that is not taken.
TEST(ClockJump, ForwardsPastTheResponseWaitClosesNoResponse) {
  Parties p;
  VerifierSession v = p.V();
  ASSERT_OK_AND_ASSIGN(const EpochStart start, v.StartEpoch(p.verifier, EpochSchedule::kOnDemand));
  const EpochRecord record = Prove(p, start);
  p.clock.Advance(2000);
  const uint64_t arrival = p.clock.NowMicros();
  ASSERT_OK_AND_ASSIGN(const RecordOutcome received, v.ReceiveRecord(Serialize(record), p.verifier));
  ASSERT_TRUE(received.challenge.has_value()) << received.finding.detail;
  ProviderSession provider = p.P();
  ASSERT_OK_AND_ASSIGN(const RespondOutcome answer, provider.Respond(*received.challenge, p.provider, p.poptions));

  constexpr uint64_t kWait = 30'000'000;
  p.clock.Set(arrival + kWait);
  ASSERT_OK_AND_ASSIGN(std::optional<Verdict> early, v.CloseOverdueEpoch(p.verifier, kWait));
  EXPECT_FALSE(early.has_value()) << "closed at the wait's last microsecond";
  p.clock.Advance(1);
  ASSERT_OK_AND_ASSIGN(std::optional<Verdict> closed, v.CloseOverdueEpoch(p.verifier, kWait));
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->reason, Reason::kNoResponse);
  EXPECT_EQ(closed->arrival_us, arrival);
  Result<ResponseOutcome> too_late = v.ReceiveResponse(Serialize(answer.response), p.verifier);
  EXPECT_EQ(too_late.status().code(), StatusCode::kInvalidArgument) << "a response after no-response was taken";
}

// Section 10.3: each audit time serves at most once. A clock stepped back behind the last scheduled start cannot
// start another scheduled epoch for an audit time already used; on demand stays possible, and says so.
TEST(ClockJump, BackwardsNeverReusesAnAuditTime) {
  Parties p;
  p.AdvanceToScheduled();
  VerifierSession v = p.V();
  ASSERT_OK_AND_ASSIGN(const EpochStart start, v.StartEpoch(p.verifier, EpochSchedule::kScheduled));
  const EpochRecord record = Prove(p, start);
  p.clock.Advance(1000);
  ASSERT_OK_AND_ASSIGN(const RecordOutcome received, v.ReceiveRecord(Serialize(record), p.verifier));
  ASSERT_TRUE(received.challenge.has_value());
  ProviderSession provider = p.P();
  ASSERT_OK_AND_ASSIGN(const RespondOutcome answer, provider.Respond(*received.challenge, p.provider, p.poptions));
  ASSERT_OK_AND_ASSIGN(const ResponseOutcome passed, v.ReceiveResponse(Serialize(answer.response), p.verifier));
  ASSERT_TRUE(passed.verdict.has_value());
  ASSERT_EQ(passed.verdict->reason, Reason::kPass) << passed.finding.detail;

  // Up to a minute back, before the last epoch's start: no start of either kind (PROTOCOL.md 10.4), naming it.
  p.clock.Set(std::max(start.start_us - 60'000'000, testing::kT0 + 1));
  for (const EpochSchedule schedule : {EpochSchedule::kScheduled, EpochSchedule::kOnDemand}) {
    Result<EpochStart> behind = v.StartEpoch(p.verifier, schedule);
    ASSERT_FALSE(behind.ok()) << "an epoch started while the clock reads before the last epoch's start";
    EXPECT_EQ(behind.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(behind.status().message().find(std::to_string(start.start_us)), std::string::npos)
        << behind.status().ToString();
  }
  // Back to just after that start, still before the next audit time: the served audit time is not used again.
  const uint64_t due = v.ScheduledStartUs();
  EXPECT_GT(due, start.start_us) << "the next audit time must be after the last scheduled start";
  p.clock.Set(start.start_us + 1);
  ASSERT_LT(start.start_us + 1, due) << "no clock reading lies between the served audit time and the next one";
  Result<EpochStart> refused = v.StartEpoch(p.verifier, EpochSchedule::kScheduled);
  ASSERT_FALSE(refused.ok()) << "a scheduled epoch started for an audit time already served";
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(std::to_string(due)), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(v.epochs().size(), 1u) << "a refused start logged something";
  EXPECT_EQ(v.Report(p.clock.NowMicros()).scheduled.passed, 1u);
}

}  // namespace
}  // namespace vcp

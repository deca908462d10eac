// The trace streaming and final-update loops against a scripted GitLab (api spec §4.4, §5).
#include "runner/trace_uploader.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/fake_gitlab_client.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  FakeClock clock;
  FakeGitLabClient gitlab;
  RunnerCredentials runner{.url = "http://gitlab.example/", .token = Secret{"glrt-abc"}};
  RunnerInfoPayload info;
  TraceBuffer trace{TraceOptions{.timestamps = false}, clock};
  TraceUploaderOptions options() {
    TraceUploaderOptions o;
    o.job_id = 42;
    o.job_token = Secret{"glcbt-tok"};
    return o;
  }
  UpdateJobRequest final_success() {
    UpdateJobRequest r;
    r.job_id = 42;
    r.job_token = Secret{"glcbt-tok"};
    r.state = "success";
    return r;
  }
};

TEST(TraceUploader, FinalUpdateSendsWholeLogThenPutWithChecksum) {
  Fixture f;
  f.trace.write(kScriptStdout, "hello\nworld\n");
  f.trace.finish();
  TraceUploader up(f.gitlab, f.runner, f.info, f.trace, f.clock, f.options(), {});
  EXPECT_EQ(up.finish(f.final_success(), {}), FinalUpdateStatus::kSucceeded);
  EXPECT_EQ(f.gitlab.stored_trace(), "hello\nworld\n");
  ASSERT_EQ(f.gitlab.all_updates().size(), 1u);
  const UpdateJobRequest put = f.gitlab.all_updates()[0];
  EXPECT_EQ(put.state, "success");
  ASSERT_TRUE(put.output.has_value());
  EXPECT_EQ(put.output->bytesize, 12);
  EXPECT_EQ(put.output->checksum, f.trace.checksum());
}

TEST(TraceUploader, SplitsLogIntoMebibytePatches) {
  Fixture f;
  f.trace.write(kScriptStdout, std::string(2500 * 1024, 'x'));
  f.trace.finish();
  TraceUploader up(f.gitlab, f.runner, f.info, f.trace, f.clock, f.options(), {});
  EXPECT_EQ(up.finish(f.final_success(), {}), FinalUpdateStatus::kSucceeded);
  auto patches = f.gitlab.all_patches();
  ASSERT_EQ(patches.size(), 3u);
  EXPECT_EQ(patches[0].start, 0);
  EXPECT_EQ(patches[0].content.size(), 1024u * 1024u);
  EXPECT_EQ(patches[1].start, 1024 * 1024);
  EXPECT_EQ(patches[2].start, 2 * 1024 * 1024);
  EXPECT_EQ(f.gitlab.stored_trace().size(), 2500u * 1024u);
}

TEST(TraceUploader, Issue2_ResyncsFromServerRangeOn416) {
  Fixture f;
  f.trace.write(kScriptStdout, "0123456789");
  f.trace.finish();
  // The server already has 4 bytes (e.g. an earlier PATCH whose answer was lost).
  f.gitlab.patch_answers.push_back(PatchTraceResult{.kind = PatchKind::kRangeMismatch, .new_offset = 4});
  f.gitlab.patch_answers.push_back(PatchTraceResult{.kind = PatchKind::kSucceeded});
  TraceUploader up(f.gitlab, f.runner, f.info, f.trace, f.clock, f.options(), {});
  EXPECT_EQ(up.finish(f.final_success(), {}), FinalUpdateStatus::kSucceeded);
  auto patches = f.gitlab.all_patches();
  ASSERT_EQ(patches.size(), 2u);
  EXPECT_EQ(patches[1].start, 4);
  EXPECT_EQ(patches[1].content, "456789");
}

TEST(TraceUploader, RepeatsFinalPutWhileServerAnswers202) {
  Fixture f;
  f.trace.write(kScriptStdout, "x\n");
  f.trace.finish();
  f.gitlab.update_answers.push_back(UpdateJobResult{.kind = UpdateKind::kAccepted, .update_interval = 1s});
  f.gitlab.update_answers.push_back(UpdateJobResult{.kind = UpdateKind::kAccepted, .update_interval = 2s});
  TraceUploader up(f.gitlab, f.runner, f.info, f.trace, f.clock, f.options(), {});
  EXPECT_EQ(up.finish(f.final_success(), {}), FinalUpdateStatus::kSucceeded);
  EXPECT_EQ(f.gitlab.all_updates().size(), 3u);
  // It waited the interval the server asked for between the tries.
  auto sleeps = f.clock.sleeps();
  ASSERT_GE(sleeps.size(), 2u);
  EXPECT_EQ(sleeps[0], std::chrono::nanoseconds(1s));
  EXPECT_EQ(sleeps[1], std::chrono::nanoseconds(2s));
}

TEST(TraceUploader, FailedPutsRetryWithBackoffUpToTheLimit) {
  Fixture f;
  f.trace.finish();
  for (int i = 0; i < 20; ++i) f.gitlab.update_answers.push_back(UpdateJobResult{.kind = UpdateKind::kFailed});
  TraceUploaderOptions o = f.options();
  o.final_update_retry_limit = 4;
  TraceUploader up(f.gitlab, f.runner, f.info, f.trace, f.clock, o, {});
  EXPECT_EQ(up.finish(f.final_success(), {}), FinalUpdateStatus::kGaveUp);
  EXPECT_EQ(f.gitlab.all_updates().size(), 4u);
}

TEST(TraceUploader, AbortOnPutStopsAtOnce) {
  Fixture f;
  f.trace.finish();
  f.gitlab.update_answers.push_back(UpdateJobResult{.kind = UpdateKind::kAbort});
  TraceUploader up(f.gitlab, f.runner, f.info, f.trace, f.clock, f.options(), {});
  EXPECT_EQ(up.finish(f.final_success(), {}), FinalUpdateStatus::kAborted);
  EXPECT_EQ(f.gitlab.all_updates().size(), 1u);
}

TEST(TraceUploader, Status412ResendsTheWholeLog) {
  Fixture f;
  f.trace.write(kScriptStdout, "abc");
  f.trace.finish();
  f.gitlab.update_answers.push_back(UpdateJobResult{.kind = UpdateKind::kTraceValidationFailed});
  f.gitlab.patch_answers.push_back(PatchTraceResult{.kind = PatchKind::kSucceeded});
  f.gitlab.patch_answers.push_back(PatchTraceResult{.kind = PatchKind::kSucceeded});
  TraceUploader up(f.gitlab, f.runner, f.info, f.trace, f.clock, f.options(), {});
  EXPECT_EQ(up.finish(f.final_success(), {}), FinalUpdateStatus::kSucceeded);
  auto patches = f.gitlab.all_patches();
  ASSERT_EQ(patches.size(), 2u);
  EXPECT_EQ(patches[1].start, 0);
}

}  // namespace
}  // namespace glr

// Runner line helpers: exact bytes of executors §2.2/§2.3, one write each.
#include "trace/log_lines.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fake_clock.h"
#include "trace/trace_buffer.h"

namespace glr {
namespace {

// Records each write so a test can check both the bytes and the write boundaries.
class RecordingSink final : public TraceSink {
 public:
  void write(StreamId stream, std::string_view bytes) override {
    streams.push_back(stream);
    writes.emplace_back(bytes);
  }
  void flush(StreamId) override {}
  std::vector<StreamId> streams;
  std::vector<std::string> writes;
};

TEST(LogLines, EachKindHasItsExactBytesInOneRunnerWrite) {
  RecordingSink sink;
  println(sink, "Running with gitlab-runner 19.4.0 (1a2b3c4d)");
  info(sink, "Job succeeded");
  warning(sink, "Retrying...");
  error(sink, "Job failed: exit status 1");
  stage_header(sink, "Preparing environment");
  section_start(sink, "get_sources", 1755770102);
  section_end(sink, "get_sources", 1755770104);
  EXPECT_EQ(sink.writes, (std::vector<std::string>{
                             "\x1b[0KRunning with gitlab-runner 19.4.0 (1a2b3c4d)\x1b[0;m\n",
                             "\x1b[32;1mJob succeeded\x1b[0;m\n",
                             "\x1b[0;33mWARNING: Retrying...\x1b[0;m\n",
                             "\x1b[31;1mERROR: Job failed: exit status 1\x1b[0;m\n",
                             "\x1b[0K\x1b[36;1mPreparing environment\x1b[0;m\x1b[0;m\n",
                             "section_start:1755770102:get_sources\r\x1b[0K",
                             "section_end:1755770104:get_sources\r\x1b[0K",
                         }));
  for (StreamId s : sink.streams) EXPECT_EQ(s, kRunnerStream);
}

TEST(LogLines, AnsiConstantsAreTheSpecBytes) {
  EXPECT_EQ(kAnsiBoldCyan, "\x1b[36;1m");
  EXPECT_EQ(kAnsiBoldGreen, "\x1b[32;1m");
  EXPECT_EQ(kAnsiBoldRed, "\x1b[31;1m");
  EXPECT_EQ(kAnsiYellow, "\x1b[0;33m");
  EXPECT_EQ(kAnsiBoldYellow, "\x1b[33;1m");
  EXPECT_EQ(kAnsiBoldWhite, "\x1b[37;1m");
  EXPECT_EQ(kAnsiReset, "\x1b[0;m");
  EXPECT_EQ(kAnsiClear, "\x1b[0K");
}

// The start of the composed example of executors §2.5, timestamps off.
TEST(LogLines, ComposedExampleBytes) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.timestamps = false}, clock);
  println(trace, "Running with gitlab-runner 19.4.0 (1a2b3c4d)");
  println(trace, "  on build-box xYz12AbCd, system ID: s_0123456789ab");
  section_start(trace, "prepare_executor", 1755770102);
  stage_header(trace, "Preparing the \"shell\" executor");
  println(trace, "Using Shell (bash) executor...");
  section_end(trace, "prepare_executor", 1755770102);
  section_start(trace, "prepare_script", 1755770102);
  stage_header(trace, "Preparing environment");
  trace.write(kScriptStdout, "Running on build-box...\n");
  section_end(trace, "prepare_script", 1755770102);
  info(trace, "Job succeeded");
  trace.finish();
  EXPECT_EQ(trace.read(0, 4096),
            "\x1b[0KRunning with gitlab-runner 19.4.0 (1a2b3c4d)\x1b[0;m\n"
            "\x1b[0K  on build-box xYz12AbCd, system ID: s_0123456789ab\x1b[0;m\n"
            "section_start:1755770102:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the "
            "\"shell\" executor\x1b[0;m\x1b[0;m\n"
            "\x1b[0KUsing Shell (bash) executor...\x1b[0;m\n"
            "section_end:1755770102:prepare_executor\r\x1b[0Ksection_start:1755770102:prepare_"
            "script\r\x1b[0K\x1b[0K\x1b[36;1mPreparing environment\x1b[0;m\x1b[0;m\n"
            "Running on build-box...\n"
            "section_end:1755770102:prepare_script\r\x1b[0K\x1b[32;1mJob succeeded\x1b[0;m\n");
}

}  // namespace
}  // namespace glr

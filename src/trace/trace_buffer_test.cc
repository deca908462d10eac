// TraceBuffer: masking across write boundaries, timestamps, limit, UTF-8 and checksum,
// checked byte for byte against executors §2.1/§3.7 and api §5.4.
#include "trace/trace_buffer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_clock.h"
#include "trace/log_lines.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

// FakeClock starts at unix 1755770102.
constexpr std::string_view kT0 = "2025-08-21T09:55:02.000000Z ";

TraceOptions plain(std::vector<std::string> masked = {}) {
  return TraceOptions{.masked_values = std::move(masked), .timestamps = false};
}

std::string all(const TraceBuffer& trace) { return trace.read(0, 1u << 30); }

std::string header(std::string_view time, std::string_view stream) {
  return std::string(time) + std::string(stream);
}

TEST(TraceBuffer, PassesPlainBytesThroughWithoutTimestamps) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout, "hello\nwor");
  trace.write(kScriptStdout, "ld");
  trace.finish();
  EXPECT_EQ(all(trace), "hello\nworld");
  EXPECT_EQ(trace.size(), 11);
}

TEST(TraceBuffer, MasksPhraseInOneWrite) {
  FakeClock clock;
  TraceBuffer trace(plain({"s3cr3t-Value"}), clock);
  trace.write(kScriptStdout, "a s3cr3t-Value b s3cr3t-Value\n");
  EXPECT_EQ(all(trace), "a [MASKED] b [MASKED]\n");
}

TEST(TraceBuffer, MasksSecretSplitAcrossWritesAtEverySplitPoint) {
  const std::string text = "pre S3cretVal post S3cretVal\n";
  for (size_t i = 0; i <= text.size(); ++i) {
    FakeClock clock;
    TraceBuffer trace(plain({"S3cretVal"}), clock);
    trace.write(kScriptStdout, text.substr(0, i));
    trace.write(kScriptStdout, text.substr(i));
    trace.finish();
    EXPECT_EQ(all(trace), "pre [MASKED] post [MASKED]\n") << "split at " << i;
  }
}

TEST(TraceBuffer, MasksSecretSplitIntoThreeWrites) {
  const std::string text = "xS3cretValy";
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); ++j) {
      FakeClock clock;
      TraceBuffer trace(plain({"S3cretVal"}), clock);
      trace.write(kScriptStdout, text.substr(0, i));
      trace.write(kScriptStdout, text.substr(i, j - i));
      trace.write(kScriptStdout, text.substr(j));
      trace.finish();
      EXPECT_EQ(all(trace), "x[MASKED]y") << i << "," << j;
    }
  }
}

TEST(TraceBuffer, MasksSelfOverlappingSecretByteByByte) {
  FakeClock clock;
  TraceBuffer trace(plain({"abab"}), clock);
  for (char c : std::string("xabababy aab abab")) trace.write(kScriptStdout, std::string(1, c));
  trace.finish();
  EXPECT_EQ(all(trace), "x[MASKED]aby aab [MASKED]");
}

TEST(TraceBuffer, MasksSelfOverlappingSecretAtEverySplitPoint) {
  const std::string text = "aaaab";
  for (size_t i = 0; i <= text.size(); ++i) {
    FakeClock clock;
    TraceBuffer trace(plain({"aab"}), clock);
    trace.write(kScriptStdout, text.substr(0, i));
    trace.write(kScriptStdout, text.substr(i));
    trace.finish();
    EXPECT_EQ(all(trace), "aa[MASKED]") << "split at " << i;
  }
}

TEST(TraceBuffer, MasksLongerPhrasesFirst) {
  FakeClock clock;
  TraceBuffer trace(plain({"abc", "abcdef"}), clock);
  trace.write(kScriptStdout, "abcdef abc\n");
  EXPECT_EQ(all(trace), "[MASKED] [MASKED]\n");
}

TEST(TraceBuffer, MasksMoreThan64ValuesAndOneByteValues) {
  std::vector<std::string> values{"Q"};
  std::string text = "Q.";
  std::string expected = "[MASKED].";
  for (int i = 0; i < 70; ++i) {
    values.push_back("val-" + std::to_string(1000 + i) + "-secret");
    text += values.back() + ".";
    expected += "[MASKED].";
  }
  for (size_t split = 0; split <= text.size(); split += 7) {
    FakeClock clock;
    TraceBuffer trace(plain(values), clock);
    trace.write(kScriptStdout, text.substr(0, split));
    trace.write(kScriptStdout, text.substr(split));
    trace.finish();
    ASSERT_EQ(all(trace), expected) << "split at " << split;
  }
}

TEST(TraceBuffer, TrimsMaskedValuesAndDropsEmptyAndDuplicates) {
  FakeClock clock;
  TraceBuffer trace(plain({"  hunter2\n", "", "   ", "hunter2"}), clock);
  trace.write(kScriptStdout, " hunter2 \n");
  EXPECT_EQ(all(trace), " [MASKED] \n");
}

TEST(TraceBuffer, FinishReleasesHeldBackPartialSecretUnmasked) {
  FakeClock clock;
  TraceBuffer trace(plain({"S3cretVal"}), clock);
  trace.write(kScriptStdout, "pre S3cr");
  EXPECT_EQ(all(trace), "pre ");  // "S3cr" is held back.
  trace.finish();
  EXPECT_EQ(all(trace), "pre S3cr");
  trace.write(kScriptStdout, "etVal");
  EXPECT_EQ(all(trace), "pre S3cr");  // Ignored after finish().
}

TEST(TraceBuffer, FlushReleasesHeldBytesAndStreamContinues) {
  FakeClock clock;
  TraceBuffer trace(plain({"S3cretVal"}), clock);
  trace.write(kScriptStdout, "S3c");
  trace.flush(kScriptStdout);
  trace.write(kScriptStdout, "retVal S3cretVal");
  trace.finish();
  EXPECT_EQ(all(trace), "S3cretVal [MASKED]");
}

TEST(TraceBuffer, SecretSplitBetweenStreamsIsNotMasked) {
  FakeClock clock;
  TraceBuffer trace(plain({"S3cretVal"}), clock);
  trace.write(kScriptStdout, "S3cr");
  trace.write(kScriptStderr, "etVal");
  trace.finish();
  EXPECT_EQ(all(trace), "etValS3cr");
}

TEST(TraceBuffer, MasksSecretAcrossInternalChunksOfALargeWrite) {
  FakeClock clock;
  TraceBuffer trace(
      TraceOptions{
          .masked_values = {"S3cretVal"}, .timestamps = false, .output_limit_bytes = 1 << 22},
      clock);
  std::string big(200 * 1024, 'x');
  big.replace(64 * 1024 - 4, 9, "S3cretVal");
  big.replace(128 * 1024 - 1, 9, "S3cretVal");
  trace.write(kScriptStdout, big);
  trace.finish();
  std::string expected(200 * 1024, 'x');
  expected.replace(128 * 1024 - 1, 9, "[MASKED]");
  expected.replace(64 * 1024 - 4, 9, "[MASKED]");
  EXPECT_EQ(all(trace), expected);
}

TEST(TraceBuffer, MasksTokenPrefixBody) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout, "t=glpat-abcDEF123_x.y=z-1 glrt-Q glpat- ok\n");
  EXPECT_EQ(all(trace), "t=glpat-[MASKED] glrt-[MASKED] glpat- ok\n");
}

TEST(TraceBuffer, MasksTokenSplitAtEverySplitPoint) {
  const std::string text = "a glpat-abcDEF123 b _gitlab_session=f00 c\n";
  for (size_t i = 0; i <= text.size(); ++i) {
    FakeClock clock;
    TraceBuffer trace(plain(), clock);
    trace.write(kScriptStdout, text.substr(0, i));
    trace.write(kScriptStdout, text.substr(i));
    trace.finish();
    EXPECT_EQ(all(trace), "a glpat-[MASKED] b _gitlab_session=[MASKED] c\n") << "split at " << i;
  }
}

TEST(TraceBuffer, TokenBodyAtStreamEndIsMaskedAndPartialPrefixReleased) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout, "glpat-abc");
  trace.flush(kScriptStdout);
  trace.write(kScriptStdout, " glpa");
  trace.finish();
  EXPECT_EQ(all(trace), "glpat-[MASKED] glpa");
}

TEST(TraceBuffer, DefaultTokensOnlyWithFlagAndExtrasAlways) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.token_prefixes_extra = {"mytok_"},
                                 .mask_all_default_tokens = false,
                                 .timestamps = false},
                    clock);
  trace.write(kScriptStdout, "glrt-abc glpat-abc mytok_abc\n");
  EXPECT_EQ(all(trace), "glrt-abc glpat-[MASKED] mytok_[MASKED]\n");
}

TEST(TraceBuffer, EffectiveTokenPrefixesSortedDedupedAndCapped) {
  EXPECT_EQ(effective_token_prefixes(false, {"zz-", "glpat-", "a-"}),
            (std::vector<std::string>{"a-", "zz-", "glpat-"}));
  const std::vector<std::string> all_prefixes =
      effective_token_prefixes(true, {"x-", "y-", "averyveryverylongprefix-"});
  ASSERT_EQ(all_prefixes.size(), 15u);
  EXPECT_EQ(all_prefixes.front(), "x-");
  EXPECT_EQ(all_prefixes[1], "y-");
  EXPECT_EQ(all_prefixes.back(), "glagent-");  // _gitlab_session= and the long one dropped.
}

TEST(TraceBuffer, MasksSensitiveUrlParameters) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout,
              "GET https://h/p?private_token=abc123&x=1&X-Amz-Signature=dead%20beef "
              "?rss_token=&a=b &foo=bar\n");
  EXPECT_EQ(all(trace),
            "GET https://h/p?private_token=[MASKED]&x=1&X-Amz-Signature=[MASKED] "
            "?rss_token=[MASKED]&a=b &foo=bar\n");
}

TEST(TraceBuffer, MasksUrlParameterSplitAtEverySplitPoint) {
  const std::string text = "u?a=1&authenticity_token=T0k3n/x&b=2\n";
  for (size_t i = 0; i <= text.size(); ++i) {
    FakeClock clock;
    TraceBuffer trace(plain(), clock);
    trace.write(kScriptStdout, text.substr(0, i));
    trace.write(kScriptStdout, text.substr(i));
    trace.finish();
    EXPECT_EQ(all(trace), "u?a=1&authenticity_token=[MASKED]&b=2\n") << "split at " << i;
  }
}

TEST(TraceBuffer, UrlValueEndsAtUnicodeSpaceOrControl) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout,
              "?private_token=a\xC2\xA0"
              "b &private_token=c\xE2\x80\xA8"
              "d ?rss_token=\xC3\xA9x\n");
  EXPECT_EQ(all(trace),
            "?private_token=[MASKED]\xC2\xA0"
            "b &private_token=[MASKED]\xE2\x80\xA8"
            "d "
            "?rss_token=[MASKED]\n");
}

TEST(TraceBuffer, UrlValueInProgressAtCloseIsMasked) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout, "?x-amz-credential=AKIA/2025");
  trace.finish();
  EXPECT_EQ(all(trace), "?x-amz-credential=[MASKED]");
}

TEST(TraceBuffer, TimestampsEachLine) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{}, clock);
  trace.write(kScriptStdout, "one\n");
  clock.advance(123456us);
  trace.write(kScriptStderr, "two\nthree\n");
  EXPECT_EQ(all(trace), header(kT0, "01O ") + "one\n" +
                            header("2025-08-21T09:55:02.123456Z ", "01E ") + "two\n" +
                            header("2025-08-21T09:55:02.123456Z ", "01E ") + "three\n");
}

TEST(TraceBuffer, TimestampHeaderUsesStreamNumberInHexAndRollsSeconds) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{}, clock);
  clock.advance(61s + 7us);
  trace.write(StreamId{15, true}, "svc\n");
  trace.write(StreamId{0xab, false}, "x\n");
  EXPECT_EQ(all(trace),
            "2025-08-21T09:56:03.000007Z 0fE svc\n"
            "2025-08-21T09:56:03.000007Z abO x\n");
}

TEST(TraceBuffer, PartialLineIsCompletedByLaterWriteWithItsStartTime) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{}, clock);
  trace.write(kScriptStdout, "abc");
  EXPECT_EQ(trace.size(), 0);
  clock.advance(2s);
  trace.write(kScriptStdout, "def\nghi");
  trace.flush(kScriptStdout);
  EXPECT_EQ(all(trace), header(kT0, "01O ") + "abcdef\n" +
                            header("2025-08-21T09:55:04.000000Z ", "01O ") + "ghi\n");
}

TEST(TraceBuffer, CarriageReturnWriteIsFlushedAndNextLineContinues) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{}, clock);
  trace.write(kScriptStdout, "pro");
  trace.write(kScriptStdout, "gress 10%\r");
  trace.write(kScriptStdout, "progress 100%\rdone\n");
  trace.write(kScriptStdout, "next\n");
  EXPECT_EQ(all(trace), header(kT0, "01O ") + "progress 10%\r\n" + header(kT0, "01O+") +
                            "progress 100%\rdone\n" + header(kT0, "01O ") + "next\n");
}

TEST(TraceBuffer, LongPartialLineIsFlushedAt8KiBWithContinuation) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{}, clock);
  const std::string a(5000, 'a');
  const std::string b(4000, 'b');
  trace.write(kScriptStdout, a);
  trace.write(kScriptStdout, b);
  trace.write(kScriptStdout, "c\n");
  EXPECT_EQ(all(trace), header(kT0, "01O ") + a + b + "\n" + header(kT0, "01O+") + "c\n");
}

TEST(TraceBuffer, StreamsKeepIndependentPartialLines) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{}, clock);
  trace.write(kScriptStdout, "abc");
  trace.write(kScriptStderr, "err\n");
  trace.write(kScriptStdout, "def\n");
  EXPECT_EQ(all(trace), header(kT0, "01E ") + "err\n" + header(kT0, "01O ") + "abcdef\n");
}

TEST(TraceBuffer, SectionMarkersWithTimestamps) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{}, clock);
  section_start(trace, "step_script", 1755770102);
  stage_header(trace, "Executing \"step_script\" stage of the job script");
  trace.write(kScriptStdout, "hello\n");
  section_end(trace, "step_script", 1755770104);
  info(trace, "Job succeeded");
  trace.finish();
  EXPECT_EQ(all(trace), header(kT0, "00O ") + "section_start:1755770102:step_script\r\x1b[0K\n" +
                            header(kT0, "00O+") +
                            "\x1b[0K\x1b[36;1mExecuting \"step_script\" stage of the job "
                            "script\x1b[0;m\x1b[0;m\n" +
                            header(kT0, "01O ") + "hello\n" + header(kT0, "00O ") +
                            "section_end:1755770104:step_script\r\x1b[0K\n" + header(kT0, "00O+") +
                            "\x1b[32;1mJob succeeded\x1b[0;m\n");
}

TEST(TraceBuffer, FinishEndsPartialLinesAndHeldSecretsWithTimestamps) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.masked_values = {"S3cretVal"}}, clock);
  trace.write(kScriptStdout, "pre S3cr");
  trace.finish();
  EXPECT_EQ(all(trace), header(kT0, "01O ") + "pre S3cr\n");
}

TEST(TraceBuffer, MasksBeforeTimestamping) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.masked_values = {"S3cretVal"}}, clock);
  trace.write(kScriptStdout, "S3cret");
  trace.write(kScriptStdout, "Val\n");
  EXPECT_EQ(all(trace), header(kT0, "01O ") + "[MASKED]\n");
}

std::string notice(int64_t limit) {
  return "\n\x1b[33;1mJob's log exceeded limit of " + std::to_string(limit) +
         " bytes.\nJob execution will continue but no more output will be "
         "collected.\x1b[0;m\n";
}

TEST(TraceBuffer, OutputLimitWritesWhatFitsThenNoticeThenDrops) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.timestamps = false, .output_limit_bytes = 20}, clock);
  trace.write(kScriptStdout, "0123456789abcde");
  EXPECT_FALSE(trace.truncated());
  trace.write(kScriptStdout, "fghijklmno");
  EXPECT_TRUE(trace.truncated());
  const std::string expected = "0123456789abcdefghij" + notice(20);
  EXPECT_EQ(all(trace), expected);
  trace.write(kScriptStdout, "more\n");
  trace.write(kRunnerStream, "more\n");
  trace.finish();
  EXPECT_EQ(all(trace), expected);
  EXPECT_EQ(trace.size(), static_cast<int64_t>(expected.size()));
}

// Upstream's limitWriter treats a write that fills the log exactly as crossing it.
TEST(TraceBuffer, OutputLimitExactlyReachedAddsNoticeImmediately) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.timestamps = false, .output_limit_bytes = 4}, clock);
  trace.write(kScriptStdout, "abc");
  EXPECT_FALSE(trace.truncated());
  trace.write(kScriptStdout, "d");
  EXPECT_TRUE(trace.truncated());
  EXPECT_EQ(all(trace), "abcd" + notice(4));
  trace.write(kScriptStdout, "e");
  EXPECT_EQ(all(trace), "abcd" + notice(4));
}

TEST(TraceBuffer, OutputLimitDoesNotSplitUtf8Sequence) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.timestamps = false, .output_limit_bytes = 10}, clock);
  trace.write(kScriptStdout, "123456789\xE2\x82\xAC!");  // € straddles the limit.
  EXPECT_EQ(all(trace), "123456789" + notice(10));
}

TEST(TraceBuffer, DefaultLimitWhenZero) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.timestamps = false, .output_limit_bytes = 0}, clock);
  trace.write(kScriptStdout, std::string(4 * 1024 * 1024 + 1, 'x'));
  EXPECT_TRUE(trace.truncated());
  EXPECT_EQ(trace.size(), static_cast<int64_t>(4 * 1024 * 1024 + notice(4194304).size()));
}

TEST(TraceBuffer, ReplacesInvalidUtf8) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout,
              "a\xFF"
              "b\xC0\xAF"
              "c\xED\xA0\x80"
              "d\xE2\x82"
              "A");
  trace.finish();
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(all(trace), "a" + r + "b" + r + r + "c" + r + r + r + "d" + r + r + "A");
}

TEST(TraceBuffer, KeepsMultibyteSequenceSplitAcrossWrites) {
  const std::string text = "x\xF0\x9F\x98\x80y\xE2\x82\xAC";
  for (size_t i = 0; i <= text.size(); ++i) {
    FakeClock clock;
    TraceBuffer trace(plain(), clock);
    trace.write(kScriptStdout, text.substr(0, i));
    trace.write(kScriptStdout, text.substr(i));
    trace.finish();
    EXPECT_EQ(all(trace), text) << "split at " << i;
  }
}

TEST(TraceBuffer, IncompleteSequenceAtCloseIsReplaced) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout, "ok\xE2\x82");
  trace.flush(kScriptStdout);
  EXPECT_EQ(all(trace), "ok\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(TraceBuffer, Crc32MatchesZlibOverStoredBytes) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.masked_values = {"S3cretVal"}, .output_limit_bytes = 200}, clock);
  EXPECT_EQ(trace.checksum(), "crc32:00000000");
  trace.write(kScriptStdout, "hello S3cretVal \xFF\n");
  for (int i = 0; i < 10; ++i) trace.write(kScriptStderr, "some more output\n");
  trace.finish();
  const std::string stored = all(trace);
  const uint32_t expected = static_cast<uint32_t>(
      ::crc32(0L, reinterpret_cast<const Bytef*>(stored.data()), static_cast<uInt>(stored.size())));
  EXPECT_TRUE(trace.truncated());
  EXPECT_EQ(trace.crc32(), expected);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "crc32:%08x", expected);
  EXPECT_EQ(trace.checksum(), buf);
}

TEST(TraceBuffer, ChecksumOfKnownBytes) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout, "hello\n");
  EXPECT_EQ(trace.checksum(), "crc32:363a3020");
}

TEST(TraceBuffer, ReadReturnsRequestedRanges) {
  FakeClock clock;
  TraceBuffer trace(plain(), clock);
  trace.write(kScriptStdout, "0123456789");
  EXPECT_EQ(trace.read(0, 4), "0123");
  EXPECT_EQ(trace.read(3, 4), "3456");
  EXPECT_EQ(trace.read(8, 100), "89");
  EXPECT_EQ(trace.read(10, 5), "");
  EXPECT_EQ(trace.read(-1, 5), "");
  EXPECT_EQ(trace.read(2, 0), "");
}

TEST(TraceBuffer, ObserverSeesExactlyTheStoredBytesInOrder) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.masked_values = {"S3cretVal"}, .output_limit_bytes = 100}, clock);
  std::string seen;
  int calls = 0;
  trace.set_observer([&](std::string_view bytes) {
    seen.append(bytes);
    ++calls;
  });
  trace.write(kScriptStdout, "a S3cr");
  trace.write(kScriptStdout, "etVal\npartial");
  trace.write(kScriptStderr, std::string(200, 'e') + "\n");
  trace.finish();
  EXPECT_GE(calls, 3);
  EXPECT_EQ(seen, all(trace));
  EXPECT_TRUE(trace.truncated());
}

TEST(TraceBuffer, FlushOfUnknownStreamAndEmptyWritesAreNoOps) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{}, clock);
  trace.flush(kScriptStderr);
  trace.write(kScriptStdout, "");
  trace.finish();
  trace.finish();
  EXPECT_EQ(trace.size(), 0);
}

TEST(TraceBuffer, ManyMaskedValuesOverAMegabyte) {
  FakeClock clock;
  std::vector<std::string> values;
  for (int i = 0; i < 20; ++i) values.push_back("secret-value-" + std::to_string(i) + "-x");
  TraceBuffer trace(TraceOptions{.masked_values = values, .output_limit_bytes = 8 << 20}, clock);
  std::string line = "some ordinary build output with secret-value-7-x inside ok\n";
  std::string chunk;
  while (chunk.size() < 4096) chunk += line;
  size_t written = 0;
  while (written < (1 << 20)) {
    trace.write(kScriptStdout, chunk);
    written += chunk.size();
  }
  trace.finish();
  const std::string stored = all(trace);
  EXPECT_EQ(stored.find("secret-value"), std::string::npos);
  EXPECT_NE(stored.find(" with [MASKED] inside ok\n"), std::string::npos);
}

TEST(TraceBuffer, ConcurrentWritersKeepTheirLinesWhole) {
  FakeClock clock;
  TraceBuffer trace(TraceOptions{.output_limit_bytes = 1 << 24}, clock);
  std::vector<std::thread> threads;
  for (uint8_t t = 0; t < 4; ++t) {
    threads.emplace_back([&trace, t] {
      const StreamId stream{t, false};
      for (int i = 0; i < 500; ++i) {
        trace.write(stream, "line ");
        trace.write(stream, std::to_string(i) + "\n");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  trace.finish();
  const std::string stored = all(trace);
  size_t lines = 0;
  for (size_t at = 0; at < stored.size(); ++lines) {
    const size_t nl = stored.find('\n', at);
    ASSERT_NE(nl, std::string::npos);
    const std::string_view line = std::string_view(stored).substr(at, nl - at);
    EXPECT_EQ(line.substr(0, kT0.size()), kT0);
    EXPECT_EQ(line.substr(kT0.size() + 3, 6), " line ");
    at = nl + 1;
  }
  EXPECT_EQ(lines, 2000u);
}

// Writes `text` cut at random points; the result must not depend on the cuts.
std::string write_split(const TraceOptions& options, const std::string& text, std::mt19937& rng) {
  FakeClock clock;
  TraceBuffer trace(options, clock);
  size_t at = 0;
  while (at < text.size()) {
    const size_t n = std::min(text.size() - at, static_cast<size_t>(rng() % 7));
    trace.write(kScriptStdout, text.substr(at, n));
    at += n;
  }
  trace.finish();
  return all(trace);
}

std::string random_text(std::mt19937& rng, const std::vector<std::string>& fragments) {
  std::string text;
  const size_t count = 5 + rng() % 30;
  for (size_t i = 0; i < count; ++i) text += fragments[rng() % fragments.size()];
  return text;
}

TEST(TraceBuffer, RandomSplitsGiveTheSameLogAsOneWrite) {
  std::mt19937 rng(42);
  const std::vector<std::string> fragments = {
      "a",      "b",        "ab",       "aab",      "abab",
      "g",      "gl",       "glp",      "glpat-",   "glrt",
      "glrtr-", "x1.",      "_",        "_gitlab_", "?",
      "&",      "private_", "token",    "=",        " ",
      "\n",     "\xE2",     "\x82\xAC", "\xFF",     "&x-amz-signature=",
      "S3c",    "S3cretVal"};
  const TraceOptions options{.masked_values = {"abab", "aab", "S3cretVal"},
                             .token_prefixes_extra = {"ab-"}};
  for (int round = 0; round < 300; ++round) {
    const std::string text = random_text(rng, fragments);
    FakeClock clock;
    TraceBuffer whole(options, clock);
    whole.write(kScriptStdout, text);
    whole.finish();
    ASSERT_EQ(write_split(options, text, rng), all(whole)) << "text: " << text;
  }
}

// Reference: replace each phrase in the whole text, longest phrase first.
std::string mask_naively(std::string text, const std::vector<std::string>& longest_first) {
  for (const std::string& phrase : longest_first) {
    std::string out;
    size_t at = 0;
    for (size_t hit; (hit = text.find(phrase, at)) != std::string::npos; at = hit + phrase.size()) {
      out.append(text, at, hit - at).append("[MASKED]");
    }
    text = out.append(text, at);
  }
  return text;
}

// A shorter phrase runs over the longer phrase's output, as in upstream's chain.
TEST(TraceBuffer, ShorterPhraseSeesLongerPhraseReplacement) {
  const std::vector<std::string> phrases = {"xyzwv", "a[MA"};
  for (const std::string text : {"axyzwv", "a xyzwv"}) {
    FakeClock clock;
    TraceBuffer trace(plain(phrases), clock);
    trace.write(kScriptStdout, text);
    trace.finish();
    EXPECT_EQ(all(trace), mask_naively(text, phrases));
  }
  EXPECT_EQ(mask_naively("axyzwv", phrases), "[MASKED]SKED]");
}

TEST(TraceBuffer, PhraseMaskingMatchesWholeTextReplacement) {
  std::mt19937 rng(7);
  const std::vector<std::string> fragments = {"a", "b", "c", "ab", "ba", "abc", "cab", " "};
  const std::vector<std::string> phrases = {"abcab", "abab", "bca", "aa"};
  for (int round = 0; round < 300; ++round) {
    const std::string text = random_text(rng, fragments);
    ASSERT_EQ(write_split(plain(phrases), text, rng), mask_naively(text, phrases))
        << "text: " << text;
  }
}

}  // namespace
}  // namespace glr

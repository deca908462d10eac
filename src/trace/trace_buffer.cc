// Streaming filters of the job log (phrase masker, URL-parameter sanitizer, token-prefix
// sanitizer, timestamper, UTF-8 repair) and the stored log with limit and CRC. Each
// filter is a small state machine so a secret split across writes is still masked.
#include "trace/trace_buffer.h"

#include <zlib.h>

#include <algorithm>
#include <bitset>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "util/strings.h"

namespace glr {

namespace {

constexpr std::string_view kMask = "[MASKED]";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
// Large writes are masked in slices so the maskers' scratch stays small.
constexpr size_t kMaskChunk = 64 * 1024;
// Scratch buffers larger than this are released after a write (bounded memory).
constexpr size_t kKeepScratch = 1024 * 1024;
constexpr size_t kMaxTokenPrefixes = 15;
constexpr int64_t kDefaultLimit = 4 * 1024 * 1024;

// One stage of a stream's chain. process() returns the bytes to pass on: either `in`
// itself (nothing changed, nothing held) or a view of the stage's own buffer, valid
// until the next call. flush() releases what is held back at stream close.
class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view process(std::string_view in) = 0;
  virtual std::string_view flush() = 0;
  void release_scratch() {
    if (out_.capacity() > kKeepScratch) std::string().swap(out_);
  }

 protected:
  std::string out_;
};

// Replaces every occurrence of one phrase by [MASKED]. A trailing part of the input
// that could start the phrase is held back until the next write decides it.
class PhraseMasker final : public Filter {
 public:
  explicit PhraseMasker(std::string phrase) : phrase_(std::move(phrase)) {}

  std::string_view process(std::string_view in) override {
    if (in.empty()) return in;
    out_.clear();
    size_t pos = 0;
    if (!held_.empty() && !resolve_held(in, pos)) return out_;
    const size_t len = phrase_.size();
    size_t last = pos;
    while (in.size() - pos >= len) {
      const void* hit = memmem(in.data() + pos, in.size() - pos, phrase_.data(), len);
      if (hit == nullptr) break;
      const size_t at = static_cast<size_t>(static_cast<const char*>(hit) - in.data());
      out_.append(in.substr(last, at - last));
      out_.append(kMask);
      pos = last = at + len;
    }
    const size_t hold = partial_suffix(in.substr(last));
    if (out_.empty() && last == 0 && hold == 0) return in;
    out_.append(in.substr(last, in.size() - last - hold));
    held_.assign(in.substr(in.size() - hold));
    return out_;
  }

  std::string_view flush() override {
    out_.swap(held_);
    held_.clear();
    return out_;
  }

  bool is_holding() const { return !held_.empty(); }

 private:
  // Decides the held bytes against the start of `in`. Returns false when all of `in`
  // was absorbed into a still-partial match; otherwise `pos` is where scanning resumes.
  bool resolve_held(std::string_view in, size_t& pos) {
    const std::string_view phrase = phrase_;
    for (size_t i = 0; i < held_.size(); ++i) {
      const std::string_view tail = std::string_view(held_).substr(i);
      if (phrase.substr(0, tail.size()) != tail) continue;
      const std::string_view need = phrase.substr(tail.size());
      if (in.size() >= need.size()) {
        if (in.substr(0, need.size()) != need) continue;
        out_.append(held_, 0, i);
        out_.append(kMask);
        held_.clear();
        pos = need.size();
        return true;
      }
      if (need.substr(0, in.size()) != in) continue;
      out_.append(held_, 0, i);
      held_.erase(0, i);
      held_.append(in);
      return false;
    }
    out_.append(held_);
    held_.clear();
    pos = 0;
    return true;
  }

  // Length of the longest suffix of `s` that is a proper prefix of the phrase.
  size_t partial_suffix(std::string_view s) const {
    const size_t window = std::min(phrase_.size() - 1, s.size());
    size_t i = s.size() - window;
    while (i < s.size()) {
      const void* hit = std::memchr(s.data() + i, phrase_[0], s.size() - i);
      if (hit == nullptr) return 0;
      i = static_cast<size_t>(static_cast<const char*>(hit) - s.data());
      if (std::string_view(phrase_).substr(0, s.size() - i) == s.substr(i)) return s.size() - i;
      ++i;
    }
    return 0;
  }

  std::string phrase_;
  std::string held_;  // Always shorter than phrase_.
};

}  // namespace

namespace trace_internal {

// Which phrases can occur in a piece of text, judged by their first two bytes in one
// pass, so the per-phrase searches run only where needed (20 phrases over 100 MB).
class PhraseIndex {
 public:
  explicit PhraseIndex(const std::vector<std::string>& phrases) {
    for (size_t i = 0; i < phrases.size(); ++i) {
      const std::string& p = phrases[i];
      if (i >= kIndexed || p.size() < 2) {
        if (i < kIndexed) always_ |= uint64_t{1} << i;
        continue;
      }
      const unsigned first = static_cast<unsigned char>(p[0]);
      const unsigned key = first << 8 | static_cast<unsigned char>(p[1]);
      pairs_.set(key);
      pair_masks_[key] |= uint64_t{1} << i;
      first_masks_[first] |= uint64_t{1} << i;
    }
  }

  // Bit i (i < 64): phrase i may start in `text` (or a prefix of it may end it). Phrases
  // from index 64 on are not indexed and must always run.
  uint64_t candidates(std::string_view text) const {
    uint64_t mask = always_;
    if (text.empty()) return mask;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    for (size_t i = 0; i + 1 < n; ++i) {
      const unsigned key = static_cast<unsigned>(p[i]) << 8 | p[i + 1];
      if (pairs_.test(key)) mask |= pair_masks_.at(key);
    }
    return mask | first_masks_[p[n - 1]];
  }

  static constexpr size_t kIndexed = 64;

 private:
  std::bitset<256 * 256> pairs_{};
  std::unordered_map<unsigned, uint64_t> pair_masks_;
  std::array<uint64_t, 256> first_masks_{};
  uint64_t always_ = 0;
};

}  // namespace trace_internal

namespace {

using trace_internal::PhraseIndex;

bool is_token_char(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '-' ||
         u == '.' || u == '_' || u == '=';
}

// Keeps a known token prefix and replaces the token body ([A-Za-z0-9._=-]+) after it by
// [MASKED]. All prefixes are matched in one pass, the longest first at each position; a
// write ending in a possible prefix is held back and re-scanned with the next write.
class TokenMasker final : public Filter {
 public:
  explicit TokenMasker(std::vector<std::string> prefixes) : prefixes_(std::move(prefixes)) {
    std::sort(prefixes_.begin(), prefixes_.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() > b.size() : a < b;
    });
    for (const std::string& p : prefixes_) {
      const unsigned char first = static_cast<unsigned char>(p[0]);
      first_[first] = true;
      if (p.size() > 1) {
        pair_.set(first * 256u + static_cast<unsigned char>(p[1]));
      } else {
        for (size_t b = 0; b < 256; ++b) pair_.set(first * 256u + b);
      }
    }
  }

  std::string_view process(std::string_view in) override {
    out_.clear();
    if (in.empty() || prefixes_.empty()) return in;
    if (!held_.empty()) {
      joined_.assign(held_);
      joined_.append(in);
      held_.clear();
      if (!scan(joined_, false)) out_.append(joined_);
      return out_;
    }
    return scan(in, false) ? std::string_view(out_) : in;
  }

  std::string_view flush() override {
    out_.clear();
    if (!held_.empty()) {
      joined_.swap(held_);
      held_.clear();
      if (!scan(joined_, true)) out_.append(joined_);
    }
    if (in_body_ && body_seen_) out_.append(kMask);
    in_body_ = body_seen_ = false;
    return out_;
  }

 private:
  // Appends the result to out_ (unless nothing changed: then returns false and out_ is
  // empty). With `final` the input ends the stream, so nothing is held back.
  bool scan(std::string_view in, bool final) {
    bool changed = false;
    size_t n = 0;
    size_t last = 0;
    while (n < in.size()) {
      if (in_body_) {
        changed = true;
        out_.append(in.substr(last, n - last));
        size_t k = n;
        while (k < in.size() && is_token_char(in[k])) ++k;
        if (k > n) body_seen_ = true;
        n = last = k;
        if (k == in.size()) break;
        if (body_seen_) out_.append(kMask);
        in_body_ = body_seen_ = false;
        continue;
      }
      while (n < in.size() && !first_[static_cast<unsigned char>(in[n])]) ++n;
      if (n == in.size()) break;
      if (n + 1 < in.size() && !pair_.test(static_cast<unsigned char>(in[n]) * 256u +
                                           static_cast<unsigned char>(in[n + 1]))) {
        ++n;
        continue;
      }
      const std::string_view rest = in.substr(n);
      bool partial = false;
      const std::string* full = nullptr;
      for (const std::string& p : prefixes_) {
        if (rest.size() >= p.size()) {
          if (rest.compare(0, p.size(), p) == 0) {
            full = &p;
            break;
          }
        } else if (!final && !partial && std::string_view(p).substr(0, rest.size()) == rest) {
          partial = true;  // A longer prefix may still complete: decide with more input.
        }
      }
      if (partial) {
        changed = true;
        out_.append(in.substr(last, n - last));
        held_.assign(rest);
        n = last = in.size();
        break;
      }
      if (full != nullptr) {
        changed = true;
        n += full->size();
        out_.append(in.substr(last, n - last));
        last = n;
        in_body_ = true;
        body_seen_ = false;
        continue;
      }
      ++n;
    }
    if (!changed) return false;
    out_.append(in.substr(last));
    return true;
  }

  std::vector<std::string> prefixes_;  // Longest first.
  std::array<bool, 256> first_{};
  std::bitset<256 * 256> pair_{};  // (first byte, second byte) of some prefix.
  std::string held_;               // A possible prefix at the end of the last write.
  std::string joined_;             // held_ + the next write.
  bool in_body_ = false;           // A whole prefix was seen (and emitted).
  bool body_seen_ = false;         // At least one body byte was swallowed.
};

// Where a masked URL parameter value ends: '?', '&', or a Unicode space or control
// character (Go's unicode.IsSpace / IsControl, as upstream) starting at in[i].
bool is_param_end(std::string_view in, size_t i) {
  const unsigned char u = static_cast<unsigned char>(in[i]);
  if (u < 0x80) return u == '?' || u == '&' || u <= 0x20 || u == 0x7f;
  auto at = [&](size_t k) -> unsigned {
    return i + k < in.size() ? static_cast<unsigned char>(in[i + k]) : 0u;
  };
  switch (u) {
    case 0xC2:  // U+0080..U+009F (C1 controls, NEL), U+00A0
      return at(1) >= 0x80 && at(1) <= 0xA0;
    case 0xE1:  // U+1680
      return at(1) == 0x9A && at(2) == 0x80;
    case 0xE2:  // U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
      return (at(1) == 0x80 && ((at(2) >= 0x80 && at(2) <= 0x8A) || at(2) == 0xA8 ||
                                at(2) == 0xA9 || at(2) == 0xAF)) ||
             (at(1) == 0x81 && at(2) == 0x9F);
    case 0xE3:  // U+3000
      return at(1) == 0x80 && at(2) == 0x80;
    default:
      return false;
  }
}

// Replaces the value of sensitive URL query parameters (executors §3.7.3). Key bytes
// pass through as they come; only a value is swallowed, so nothing is ever held.
class UrlSanitizer final : public Filter {
 public:
  std::string_view process(std::string_view in) override {
    out_.clear();
    bool changed = false;
    size_t n = 0;
    size_t last = 0;
    size_t next_q = kUnknown;
    size_t next_a = kUnknown;
    while (n < in.size()) {
      switch (state_) {
        case State::kValue: {
          changed = true;
          out_.append(in.substr(last, n - last));
          size_t k = n;
          while (k < in.size() && !is_param_end(in, k)) ++k;
          n = last = k;
          if (k < in.size()) {
            out_.append(kMask);
            state_ = State::kScan;
          }
          break;
        }
        case State::kScan: {
          next_q = refresh(in, n, next_q, '?');
          next_a = refresh(in, n, next_a, '&');
          const size_t sep = std::min(next_q, next_a);
          if (sep == std::string_view::npos) {
            n = in.size();
            break;
          }
          n = sep + 1;
          state_ = State::kKey;
          key_len_ = 0;
          break;
        }
        case State::kKey: {
          const char c = in[n];
          if (c == '=') {
            state_ = is_sensitive() ? State::kValue : State::kScan;
            ++n;
          } else if (c == '?' || c == '&') {
            key_len_ = 0;
            ++n;
          } else if (key_len_ == kMaxKey) {
            state_ = State::kScan;
          } else {
            key_[key_len_++] = c;
            ++n;
          }
          break;
        }
      }
    }
    if (!changed) return in;
    out_.append(in.substr(last));
    return out_;
  }

  std::string_view flush() override {
    out_.clear();
    if (state_ == State::kValue) out_.append(kMask);
    state_ = State::kScan;
    key_len_ = 0;
    return out_;
  }

 private:
  enum class State { kScan, kKey, kValue };
  static constexpr size_t kMaxKey = 20;  // strlen("x-amz-security-token")
  static constexpr size_t kUnknown = std::string_view::npos - 1;

  // Position of the next `c` at or after `from`, reusing a cached answer.
  static size_t refresh(std::string_view in, size_t from, size_t cached, char c) {
    if (cached != kUnknown && (cached == std::string_view::npos || cached >= from)) {
      return cached;
    }
    const void* hit = std::memchr(in.data() + from, c, in.size() - from);
    if (hit == nullptr) return std::string_view::npos;
    return static_cast<size_t>(static_cast<const char*>(hit) - in.data());
  }

  bool is_sensitive() const {
    static constexpr std::string_view kKeys[] = {"private_token",    "authenticity_token",
                                                 "rss_token",        "x-amz-signature",
                                                 "x-amz-credential", "x-amz-security-token"};
    for (std::string_view k : kKeys) {
      if (k.size() != key_len_) continue;
      bool same = true;
      for (size_t i = 0; i < key_len_ && same; ++i) {
        const char c = key_[i];
        same = (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) == k[i];
      }
      if (same) return true;
    }
    return false;
  }

  State state_ = State::kScan;
  char key_[kMaxKey] = {};
  size_t key_len_ = 0;
};

// Prefixes every line with `YYYY-MM-DDTHH:MM:SS.ffffffZ <nn><O|E><' '|'+'>` (executors
// §2.1). A partial line is kept (with its header, stamped when it started) up to 8 KiB.
class Timestamper final : public Filter {
 public:
  Timestamper(const Clock& clock, StreamId stream) : clock_(clock) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::memcpy(header_, "0000-00-00T00:00:00.000000Z ", kTimeLen);
    header_[kTimeLen] = kHex[stream.number >> 4];
    header_[kTimeLen + 1] = kHex[stream.number & 0x0f];
    header_[kTimeLen + 2] = stream.is_stderr ? 'E' : 'O';
    header_[kTimeLen + 3] = ' ';
  }

  std::string_view process(std::string_view in) override {
    out_.clear();
    if (in.empty()) return out_;
    size_t n = 0;
    // Every '\n'-terminated line; the first one completes a buffered partial line.
    const char* nl = static_cast<const char*>(std::memchr(in.data(), '\n', in.size()));
    if (nl != nullptr && !partial_.empty()) {
      const size_t end = static_cast<size_t>(nl - in.data()) + 1;
      out_.append(partial_);
      partial_.clear();
      out_.append(in.substr(0, end));
      n = end;
    }
    while (n < in.size()) {
      nl = static_cast<const char*>(std::memchr(in.data() + n, '\n', in.size() - n));
      if (nl == nullptr) break;
      const size_t end = static_cast<size_t>(nl - in.data()) + 1;
      append_header(out_);
      out_.append(in.substr(n, end - n));
      n = end;
    }
    const std::string_view rest = in.substr(n);
    if (rest.empty()) return out_;
    // A write with '\r' but no '\n' (progress bars, section markers) is one entry now.
    if (rest.find('\r') != std::string_view::npos) {
      if (partial_.empty()) {
        append_header(out_);
      } else {
        out_.append(partial_);
        partial_.clear();
      }
      out_.append(rest);
      out_.push_back('\n');
      continuation_ = true;
      return out_;
    }
    if (rest.size() + partial_.size() > kMaxPartial) {
      if (partial_.empty()) append_header(out_);
      out_.append(partial_);
      partial_.clear();
      continuation_ = true;
      out_.append(rest);
      out_.push_back('\n');
      return out_;
    }
    if (partial_.empty()) append_header(partial_);
    partial_.append(rest);
    return out_;
  }

  std::string_view flush() override {
    out_.clear();
    if (partial_.empty()) return out_;
    out_.swap(partial_);
    partial_.clear();
    out_.push_back('\n');
    return out_;
  }

 private:
  static constexpr size_t kTimeLen = 28;  // "YYYY-MM-DDTHH:MM:SS.ffffffZ "
  static constexpr size_t kMaxPartial = 8 * 1024;

  void append_header(std::string& to) {
    using std::chrono::duration_cast;
    using std::chrono::microseconds;
    const auto since_epoch = duration_cast<microseconds>(clock_.now().time_since_epoch());
    int64_t secs = since_epoch.count() / 1000000;
    int64_t micros = since_epoch.count() % 1000000;
    if (micros < 0) {
      micros += 1000000;
      secs -= 1;
    }
    if (secs != cached_second_) {
      const std::time_t t = static_cast<std::time_t>(secs);
      std::tm tm{};
      gmtime_r(&t, &tm);
      put_digits(0, 4, tm.tm_year + 1900);
      put_digits(5, 2, tm.tm_mon + 1);
      put_digits(8, 2, tm.tm_mday);
      put_digits(11, 2, tm.tm_hour);
      put_digits(14, 2, tm.tm_min);
      put_digits(17, 2, tm.tm_sec);
      cached_second_ = secs;
    }
    put_digits(20, 6, micros);
    header_[kTimeLen + 3] = continuation_ ? '+' : ' ';
    continuation_ = false;
    to.append(header_, sizeof(header_));
  }

  void put_digits(size_t at, size_t width, int64_t value) {
    for (size_t i = width; i > 0; --i) {
      header_[at + i - 1] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  }

  const Clock& clock_;
  char header_[kTimeLen + 4] = {};
  int64_t cached_second_ = INT64_MIN;
  bool continuation_ = false;
  std::string partial_;  // Header + bytes of the unfinished line; at most 8 KiB of text.
};

// Sequence length announced by a lead byte; 0 when it cannot start a sequence.
size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Whether `b` may follow as byte `index` (1-based) of a sequence started by `lead`,
// with Go's rules (no overlongs, no surrogates, nothing above U+10FFFF).
bool utf8_continues(unsigned char lead, size_t index, unsigned char b) {
  if (index == 1) {
    if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
    if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
    if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
    if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  }
  return b >= 0x80 && b <= 0xBF;
}

// Replaces each byte that is not part of a valid UTF-8 sequence by U+FFFD (Go's
// encoding.Replacement); an incomplete sequence at the end of a write is held back.
class Utf8Repair final : public Filter {
 public:
  std::string_view process(std::string_view in) override {
    out_.clear();
    bool changed = false;
    size_t n = 0;
    while (pending_len_ > 0 && n < in.size()) {
      changed = true;
      const unsigned char b = static_cast<unsigned char>(in[n]);
      const unsigned char lead = static_cast<unsigned char>(pending_[0]);
      if (utf8_continues(lead, pending_len_, b)) {
        pending_[pending_len_++] = in[n++];
        if (pending_len_ == utf8_length(lead)) {
          out_.append(pending_, pending_len_);
          pending_len_ = 0;
        }
      } else {
        // The lead and its continuation bytes are each invalid; `b` is looked at anew.
        for (size_t i = 0; i < pending_len_; ++i) out_.append(kReplacement);
        pending_len_ = 0;
      }
    }
    if (pending_len_ > 0) return out_;
    size_t last = n;
    while (n < in.size()) {
      while (in.size() - n >= 8) {
        uint64_t word;
        std::memcpy(&word, in.data() + n, 8);
        if ((word & 0x8080808080808080ULL) != 0) break;
        n += 8;
      }
      if (n >= in.size()) break;
      const unsigned char lead = static_cast<unsigned char>(in[n]);
      if (lead < 0x80) {
        ++n;
        continue;
      }
      const size_t len = utf8_length(lead);
      size_t ok = len == 0 ? 0 : 1;
      while (ok > 0 && ok < len && n + ok < in.size() &&
             utf8_continues(lead, ok, static_cast<unsigned char>(in[n + ok]))) {
        ++ok;
      }
      if (len != 0 && ok == len) {
        n += len;
      } else if (len != 0 && n + ok == in.size()) {
        changed = true;
        out_.append(in.substr(last, n - last));
        std::memcpy(pending_, in.data() + n, ok);
        pending_len_ = ok;
        n = last = in.size();
      } else {
        changed = true;
        out_.append(in.substr(last, n - last));
        out_.append(kReplacement);
        last = ++n;
      }
    }
    if (!changed) return in;
    out_.append(in.substr(last));
    return out_;
  }

  std::string_view flush() override {
    out_.clear();
    for (size_t i = 0; i < pending_len_; ++i) out_.append(kReplacement);
    pending_len_ = 0;
    return out_;
  }

 private:
  char pending_[4] = {};
  size_t pending_len_ = 0;
};

size_t stream_index(StreamId stream) {
  return static_cast<size_t>(stream.number) * 2 + (stream.is_stderr ? 1 : 0);
}

}  // namespace

namespace trace_internal {

// The filters of one stream, in pipeline order (executors §2.1).
class StreamChain {
 public:
  StreamChain(const PhraseIndex& index, const std::vector<std::string>& phrases,
              const std::vector<std::string>& prefixes, const TraceOptions& options,
              const Clock& clock, StreamId stream)
      : index_(index), tokens_(prefixes) {
    phrases_.reserve(phrases.size());
    for (const std::string& phrase : phrases) phrases_.emplace_back(phrase);
    if (options.timestamps) timestamper_ = std::make_unique<Timestamper>(clock, stream);
  }

  // Runs the maskers from stage `from` on (phrases, then URL, then tokens).
  std::string_view mask(std::string_view in, size_t from = 0) {
    if (from < phrases_.size() && !in.empty()) {
      uint64_t candidates = index_.candidates(in);
      for (size_t i = from; i < phrases_.size() && !in.empty(); ++i) {
        const bool may_match = i >= PhraseIndex::kIndexed || ((candidates >> i) & 1) != 0;
        if (!may_match && !phrases_[i].is_holding()) continue;
        const std::string_view out = phrases_[i].process(in);
        if (out.data() != in.data() || out.size() != in.size()) {
          in = out;
          candidates = index_.candidates(in);  // Replacements may create new candidates.
        }
      }
    }
    if (from <= phrases_.size() && !in.empty()) in = url_.process(in);
    if (!in.empty()) in = tokens_.process(in);
    return in;
  }

  // Appends everything the maskers hold back, passed through the later maskers.
  void flush_maskers(std::string& to) {
    for (size_t i = 0; i < phrases_.size(); ++i) to.append(mask(phrases_[i].flush(), i + 1));
    to.append(mask(url_.flush(), phrases_.size() + 1));
    to.append(tokens_.flush());
  }

  template <class Store>
  void finish_write(std::string_view masked, Store&& store) {
    if (timestamper_ != nullptr) masked = timestamper_->process(masked);
    store(utf8_.process(masked));
  }

  template <class Store>
  void close(Store&& store) {
    if (timestamper_ != nullptr) store(utf8_.process(timestamper_->flush()));
    store(utf8_.flush());
  }

  void release_scratch() {
    for (PhraseMasker& m : phrases_) m.release_scratch();
    url_.release_scratch();
    tokens_.release_scratch();
    if (timestamper_ != nullptr) timestamper_->release_scratch();
    utf8_.release_scratch();
  }

 private:
  const PhraseIndex& index_;
  std::vector<PhraseMasker> phrases_;  // Longest first.
  UrlSanitizer url_;
  TokenMasker tokens_;
  std::unique_ptr<Timestamper> timestamper_;
  Utf8Repair utf8_;
};

}  // namespace trace_internal

std::vector<std::string> effective_token_prefixes(bool mask_all_default_tokens,
                                                  const std::vector<std::string>& extra) {
  std::vector<std::string> prefixes{"glpat-"};
  if (mask_all_default_tokens) {
    for (const char* p :
         {"gloas-", "gldt-", "glrt-", "glcbt-", "glrtr-", "glptt-", "glft-", "glimt-", "glagent-",
          "glsoat-", "glffct-", "_gitlab_session=", "gltok-"}) {
      prefixes.emplace_back(p);
    }
  }
  for (const std::string& p : extra) {
    if (!p.empty()) prefixes.push_back(p);
  }
  std::sort(prefixes.begin(), prefixes.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  if (prefixes.size() > kMaxTokenPrefixes) prefixes.resize(kMaxTokenPrefixes);
  return prefixes;
}

TraceBuffer::TraceBuffer(TraceOptions options, const Clock& clock)
    : clock_(clock),
      options_(std::move(options)),
      limit_(options_.output_limit_bytes > 0 ? options_.output_limit_bytes : kDefaultLimit) {
  for (const std::string& value : options_.masked_values) {
    const std::string_view trimmed = trim(value);
    if (!trimmed.empty()) phrases_.emplace_back(trimmed);
  }
  // Longer phrases first, so a secret containing a shorter one is masked whole.
  std::sort(phrases_.begin(), phrases_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  phrases_.erase(std::unique(phrases_.begin(), phrases_.end()), phrases_.end());
  prefixes_ =
      effective_token_prefixes(options_.mask_all_default_tokens, options_.token_prefixes_extra);
  phrase_index_ = std::make_unique<trace_internal::PhraseIndex>(phrases_);
  crc_ = static_cast<uint32_t>(::crc32(0L, Z_NULL, 0));
}

TraceBuffer::~TraceBuffer() = default;

trace_internal::StreamChain& TraceBuffer::chain_for(StreamId stream) {
  std::unique_ptr<trace_internal::StreamChain>& chain = chains_[stream_index(stream)];
  if (chain == nullptr) {
    chain = std::make_unique<trace_internal::StreamChain>(*phrase_index_, phrases_, prefixes_,
                                                          options_, clock_, stream);
  }
  return *chain;
}

void TraceBuffer::write(StreamId stream, std::string_view bytes) {
  std::lock_guard lock(mu_);
  if (finished_ || truncated_ || bytes.empty()) return;
  trace_internal::StreamChain& chain = chain_for(stream);
  auto store_fn = [this](std::string_view b) { store(b); };
  if (bytes.size() <= kMaskChunk) {
    chain.finish_write(chain.mask(bytes), store_fn);
    return;
  }
  masked_.clear();
  for (size_t at = 0; at < bytes.size(); at += kMaskChunk) {
    masked_.append(chain.mask(bytes.substr(at, kMaskChunk)));
  }
  chain.finish_write(masked_, store_fn);
  chain.release_scratch();
  release_scratch();
}

void TraceBuffer::flush(StreamId stream) {
  std::lock_guard lock(mu_);
  if (finished_) return;
  std::unique_ptr<trace_internal::StreamChain>& chain = chains_[stream_index(stream)];
  if (chain == nullptr) return;
  masked_.clear();
  chain->flush_maskers(masked_);
  auto store_fn = [this](std::string_view b) { store(b); };
  chain->finish_write(masked_, store_fn);
  chain->close(store_fn);
}

void TraceBuffer::finish() {
  std::lock_guard lock(mu_);
  if (finished_) return;
  auto store_fn = [this](std::string_view b) { store(b); };
  for (std::unique_ptr<trace_internal::StreamChain>& chain : chains_) {
    if (chain == nullptr) continue;
    masked_.clear();
    chain->flush_maskers(masked_);
    chain->finish_write(masked_, store_fn);
    chain->close(store_fn);
  }
  finished_ = true;
  chains_ = {};
  std::string().swap(masked_);
}

void TraceBuffer::store(std::string_view bytes) {
  if (truncated_ || bytes.empty()) return;
  auto append = [this](std::string_view b) {
    if (b.empty()) return;
    log_.append(b);
    crc_ = static_cast<uint32_t>(
        ::crc32(crc_, reinterpret_cast<const Bytef*>(b.data()), static_cast<uInt>(b.size())));
    if (observer_) observer_(b);
  };
  // As upstream's limitWriter: a write that reaches the limit exactly also ends the log.
  const int64_t room = limit_ - static_cast<int64_t>(log_.size());
  if (static_cast<int64_t>(bytes.size()) < room) {
    append(bytes);
    return;
  }
  // Cut back at most 3 bytes so the last UTF-8 sequence is not split (api §5.4).
  size_t cut = room > 0 ? static_cast<size_t>(room) : 0;
  for (int back = 0; back < 3 && cut > 0 && cut < bytes.size() &&
                     (static_cast<unsigned char>(bytes[cut]) & 0xC0) == 0x80;
       ++back) {
    --cut;
  }
  if (cut < bytes.size() && (static_cast<unsigned char>(bytes[cut]) & 0xC0) == 0x80) {
    cut = room > 0 ? static_cast<size_t>(room) : 0;  // Not valid UTF-8 here; cut as is.
  }
  append(bytes.substr(0, cut));
  const std::string notice = "\n\x1b[33;1mJob's log exceeded limit of " + std::to_string(limit_) +
                             " bytes.\nJob execution will continue but no more output will be "
                             "collected.\x1b[0;m\n";
  append(notice);
  truncated_ = true;
}

void TraceBuffer::release_scratch() {
  if (masked_.capacity() > kKeepScratch) std::string().swap(masked_);
}

int64_t TraceBuffer::size() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(log_.size());
}

std::string TraceBuffer::read(int64_t offset, size_t max_bytes) const {
  std::lock_guard lock(mu_);
  if (offset < 0 || offset >= static_cast<int64_t>(log_.size())) return {};
  return log_.substr(static_cast<size_t>(offset), max_bytes);
}

uint32_t TraceBuffer::crc32() const {
  std::lock_guard lock(mu_);
  return crc_;
}

std::string TraceBuffer::checksum() const {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "crc32:%08x", static_cast<unsigned>(crc32()));
  return buf;
}

bool TraceBuffer::truncated() const {
  std::lock_guard lock(mu_);
  return truncated_;
}

void TraceBuffer::set_observer(std::function<void(std::string_view stored_bytes)> observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

}  // namespace glr

// The job log as GitLab receives it: every stream's bytes are masked, timestamped and
// appended to one stored log with the output limit, UTF-8 repair and a running CRC-32
// (executors §2.1, §3.7; api §5.4). Pure: no HTTP, no threads; runner/ uploads from it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "trace/trace_sink.h"
#include "util/clock.h"

namespace glr {

struct TraceOptions {
  // Values of masked variables; trimmed, empty and duplicate values dropped.
  std::vector<std::string> masked_values{};
  // Payload features.token_mask_prefixes.
  std::vector<std::string> token_prefixes_extra{};
  // FF_MASK_ALL_DEFAULT_TOKENS: the default token prefix list besides glpat-.
  bool mask_all_default_tokens = true;
  // FF_TIMESTAMPS.
  bool timestamps = true;
  // [[runners]] output_limit in bytes; <= 0 means the default 4 MiB.
  int64_t output_limit_bytes = 4 * 1024 * 1024;
};

namespace trace_internal {
class PhraseIndex;
class StreamChain;
}  // namespace trace_internal

// Thread-safe (one mutex). Each StreamId has its own masking and line state; a secret
// split between two streams is not masked (as upstream). Writes after finish() or after
// the output limit was hit are dropped.
class TraceBuffer final : public TraceSink {
 public:
  // `clock` must outlive this object; it stamps line headers.
  TraceBuffer(TraceOptions options, const Clock& clock);
  ~TraceBuffer() override;
  TraceBuffer(const TraceBuffer&) = delete;
  TraceBuffer& operator=(const TraceBuffer&) = delete;

  void write(StreamId stream, std::string_view bytes) override;
  // Stream close semantics: held-back partial secrets are released unmasked, a token or
  // URL value in progress becomes [MASKED], a partial line is ended with '\n'. The stream
  // may be written again afterwards (it starts a fresh line).
  void flush(StreamId stream) override;
  // Flushes every stream; all later writes and flushes are ignored.
  void finish();

  // Bytes stored so far (may exceed the limit by the notice).
  int64_t size() const;
  // Up to `max_bytes` stored bytes from `offset`; empty when offset >= size().
  std::string read(int64_t offset, size_t max_bytes) const;
  // CRC-32/IEEE of all stored bytes, and the same as "crc32:%08x" (api §5.4).
  uint32_t crc32() const;
  std::string checksum() const;
  // True once the output limit notice was appended.
  bool truncated() const;
  // Called under the lock, in order, with every chunk appended to the stored log. The
  // observer must not call back into this buffer.
  void set_observer(std::function<void(std::string_view stored_bytes)> observer);

 private:
  trace_internal::StreamChain& chain_for(StreamId stream);
  void store(std::string_view bytes);
  void release_scratch();

  const Clock& clock_;
  TraceOptions options_;
  std::vector<std::string> phrases_;   // Longest first.
  std::vector<std::string> prefixes_;  // effective_token_prefixes().
  std::unique_ptr<trace_internal::PhraseIndex> phrase_index_;
  int64_t limit_;

  mutable std::mutex mu_;
  // Indexed by number * 2 + is_stderr; created on first use. Guarded by mu_.
  std::array<std::unique_ptr<trace_internal::StreamChain>, 512> chains_{};
  std::string log_;                                 // Guarded by mu_.
  uint32_t crc_ = 0;                                // Guarded by mu_.
  bool truncated_ = false;                          // Guarded by mu_.
  bool finished_ = false;                           // Guarded by mu_.
  std::string masked_;                              // Per-write scratch. Guarded by mu_.
  std::function<void(std::string_view)> observer_;  // Guarded by mu_.
};

// The token prefixes the sanitizer uses for these options: glpat-, the defaults when
// `mask_all_default_tokens`, extras; de-duplicated, sorted by length then lexically,
// first 15 (executors §3.7).
std::vector<std::string> effective_token_prefixes(bool mask_all_default_tokens,
                                                  const std::vector<std::string>& extra);

}  // namespace glr

// KubeClient's REST and watch side over libcurl (the Kubernetes API needs streamed watches and
// in-memory certificates, which HttpTransport does not offer), with the retry policy of §7.4.
#include "kubernetes/kube_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "kubernetes/kube_exec.h"
#include "util/strings.h"

namespace glr::kube {

using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::once_flag curl_init_once;

std::string url_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      out += buf;
    }
  }
  return out;
}

std::string collection_path(const std::string& ns, const std::string& resource) {
  if (resource == "namespaces" || ns.empty()) return "/api/v1/" + url_escape(resource);
  return "/api/v1/namespaces/" + url_escape(ns) + "/" + url_escape(resource);
}

std::string object_path(const std::string& ns, const std::string& resource,
                        const std::string& name) {
  return collection_path(ns, resource) + "/" + url_escape(name);
}

// The message of a Status body, or the raw body.
std::string status_message(const std::string& body) {
  try {
    json j = json::parse(body);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      std::string reason = j.value("reason", "");
      return (reason.empty() ? "" : reason + ": ") + j["message"].get<std::string>();
    }
  } catch (const json::exception&) {
  }
  return std::string(trim(body.substr(0, 200)));
}

ErrorKind kind_for_status(int status) {
  switch (status) {
    case 400:
    case 422:
      return ErrorKind::kInvalidInput;
    case 401:
    case 403:
      return ErrorKind::kUnauthorized;
    case 404:
      return ErrorKind::kNotFound;
    case 409:
      return ErrorKind::kConflict;
    default:
      return ErrorKind::kUnavailable;
  }
}

bool transient_curl(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

struct Raw {
  int status = 0;
  std::string body{};
  std::string retry_after{};
};

// Why perform() ended without an HTTP answer.
struct Transfer {
  CURLcode code = CURLE_OK;
  bool canceled = false;
  bool timed_out = false;
  bool handler_stopped = false;
};

// Why exec into `container` (empty: the first) cannot work now, from the pod's status; empty
// when it is running or the status does not say.
std::string not_running_reason(const json& pod, std::string container) {
  if (!pod.contains("status") || !pod["status"].is_object()) return "";
  const json& status = pod["status"];
  std::string phase = status.value("phase", "");
  if (phase == "Succeeded" || phase == "Failed") return "pod is " + phase;
  if (container.empty() && pod.contains("spec") && pod["spec"].contains("containers") &&
      !pod["spec"]["containers"].empty()) {
    container = pod["spec"]["containers"][0].value("name", "");
  }
  if (!status.contains("containerStatuses")) return "";
  for (const json& c : status["containerStatuses"]) {
    if (c.value("name", "") != container || !c.contains("state")) continue;
    if (c["state"].contains("terminated")) return "container \"" + container + "\" has terminated";
  }
  return "";
}

// Why an exec or attach into `container` (empty: the first) cannot start, from the pod: the
// container is not in it, or it has ended. Empty when a retry may still work.
std::string cannot_start_reason(const json& pod, const std::string& container) {
  if (!container.empty()) {
    bool known = false;
    if (pod.contains("spec")) {
      for (const char* list : {"containers", "initContainers"}) {
        if (!pod["spec"].contains(list)) continue;
        for (const json& c : pod["spec"][list]) known = known || c.value("name", "") == container;
      }
    }
    if (!known) return "container \"" + container + "\" is not in the pod";
  }
  return not_running_reason(pod, container);
}

}  // namespace

Result<int> exit_code_from_status(std::string_view status_json) {
  json j;
  try {
    j = json::parse(status_json);
  } catch (const json::exception& e) {
    return fail(ErrorKind::kInternal, std::string("exec status is not JSON: ") + e.what());
  }
  if (j.value("status", "") == "Success") return 0;
  if (j.value("reason", "") == "NonZeroExitCode" && j.contains("details") &&
      j["details"].contains("causes")) {
    for (const json& cause : j["details"]["causes"]) {
      if (cause.value("reason", "") == "ExitCode") {
        std::optional<long long> code = parse_int(cause.value("message", ""));
        if (code) return static_cast<int>(*code);
      }
    }
  }
  return fail(ErrorKind::kInternal, "exec failed: " + j.value("message", std::string(status_json)));
}

bool is_transient_status(int status, std::string_view body) {
  if (status == 429 || status == 500 || status == 502 || status == 503 || status == 504)
    return true;
  // The API server passes etcd trouble through as 500/504 usually, but not always.
  for (std::string_view needle : {"etcdserver: request timed out", "etcdserver: leader changed",
                                  "etcdserver: too many requests", "connection reset by peer"}) {
    if (body.find(needle) != std::string_view::npos) return true;
  }
  return false;
}

struct KubeClient::Impl {
  KubeConfig config;
  Clock& clock;
  Options options;
  TokenSource tokens;

  // Idle easy+multi pairs; the multi handle owns the connection cache, so a pair taken again
  // reuses its keep-alive TLS connection to the API server.
  struct Handles {
    CURL* easy = nullptr;
    CURLM* multi = nullptr;
  };
  std::mutex pool_mu;
  std::vector<Handles> idle;  // Guarded by pool_mu.

  Impl(KubeConfig c, Clock& k, Options o)
      : config(std::move(c)), clock(k), options(o), tokens(config) {
    std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  ~Impl() {
    for (Handles& h : idle) {
      curl_easy_cleanup(h.easy);
      curl_multi_cleanup(h.multi);
    }
  }

  Handles acquire() {
    {
      std::lock_guard lock(pool_mu);
      if (!idle.empty()) {
        Handles h = idle.back();
        idle.pop_back();
        curl_easy_reset(h.easy);  // keeps live connections
        return h;
      }
    }
    return Handles{curl_easy_init(), curl_multi_init()};
  }
  // `reusable` false (a canceled or timed-out transfer) drops the pair and its connection.
  void release(Handles h, bool reusable) {
    if (reusable) {
      std::lock_guard lock(pool_mu);
      if (idle.size() < 4) {
        idle.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h.easy);
    curl_multi_cleanup(h.multi);
  }

  struct StreamState {
    CURL* easy = nullptr;
    Raw* raw = nullptr;
    const std::function<bool(std::string_view)>* on_line = nullptr;
    std::string pending{};
    bool stopped = false;
  };

  static size_t on_write(char* data, size_t size, size_t n, void* user) {
    auto* st = static_cast<StreamState*>(user);
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &code);
    if (!st->on_line || code != 200) {
      st->raw->body.append(data, len);
      return len;
    }
    st->pending.append(data, len);
    std::size_t nl;
    while ((nl = st->pending.find('\n')) != std::string::npos) {
      std::string line = st->pending.substr(0, nl);
      st->pending.erase(0, nl + 1);
      if (!trim(line).empty() && !(*st->on_line)(line)) {
        st->stopped = true;
        return 0;  // aborts the transfer with CURLE_WRITE_ERROR
      }
    }
    return len;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* raw = static_cast<Raw*>(user);
    std::string_view line(data, size * n);
    if (line.size() > 12 && iequals(line.substr(0, 12), "retry-after:")) {
      raw->retry_after = std::string(trim(line.substr(12)));
    }
    return size * n;
  }

  // One request. `on_line` (watch) gets each line of a 200 body and returns false to stop.
  Transfer perform(const std::string& method, const std::string& target, const std::string& body,
                   const std::string& content_type, Raw* raw, std::stop_token stop,
                   std::chrono::steady_clock::time_point deadline,
                   const std::function<bool(std::string_view)>* on_line) {
    Handles handles = acquire();
    CURL* easy = handles.easy;
    CURLM* multi = handles.multi;
    std::string url = config.server + target;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST" || method == "PUT" || method == "PATCH" || !body.empty()) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    struct curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (!content_type.empty())
      headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    std::string token = tokens.token();
    if (!token.empty())
      headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "glrunner");
    if (config.insecure_skip_tls_verify) {
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!config.ca_pem.empty()) {
      curl_blob ca{const_cast<char*>(config.ca_pem.data()), config.ca_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (!config.client_cert_pem.empty()) {
      curl_blob cert{const_cast<char*>(config.client_cert_pem.data()),
                     config.client_cert_pem.size(), CURL_BLOB_COPY};
      curl_blob key{const_cast<char*>(config.client_key_pem.data()), config.client_key_pem.size(),
                    CURL_BLOB_COPY};
      curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
      curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
    }
    StreamState st{easy, raw, on_line, {}, false};
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &st);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, raw);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_multi_add_handle(multi, easy);
    // A stop wakes the poll at once instead of at the next poll timeout.
    std::stop_callback wake(stop, [multi] { curl_multi_wakeup(multi); });
    Transfer t;
    int running = 1;
    while (running) {
      if (stop.stop_requested()) {
        t.canceled = true;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        t.timed_out = true;
        break;
      }
      if (curl_multi_perform(multi, &running) != CURLM_OK) break;
      if (!running) break;
      curl_multi_poll(multi, nullptr, 0, 200, nullptr);
    }
    if (!t.canceled && !t.timed_out) {
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE) t.code = msg->data.result;
      }
      long code = 0;
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
      raw->status = static_cast<int>(code);
      t.handler_stopped = st.stopped;
      if (t.code == CURLE_OK && on_line && !st.pending.empty() && raw->status == 200) {
        (*on_line)(st.pending);
      }
    }
    curl_multi_remove_handle(multi, easy);
    // Watch streams end mid-body on purpose (a handler stop); their connection is not reusable.
    release(handles, !t.canceled && !t.timed_out && !t.handler_stopped && t.code == CURLE_OK);
    curl_slist_free_all(headers);
    return t;
  }

  std::chrono::nanoseconds backoff(int attempt, const std::string& retry_after) const {
    if (std::optional<long long> s = parse_int(trim(retry_after)); s && *s >= 0) {
      return std::min<std::chrono::nanoseconds>(std::chrono::seconds(*s), options.retry_after_max);
    }
    std::chrono::nanoseconds step = options.backoff_min;
    for (int i = 1; i < attempt && step < options.backoff_max; ++i) step *= 2;
    return std::min<std::chrono::nanoseconds>(step, options.backoff_max);
  }

  // A REST call with retries; returns the 2xx body as JSON or the mapped error.
  Result<json> call(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& content_type, std::stop_token stop = {}) {
    std::string what = method + " " + target;
    std::string last;
    for (int attempt = 1;; ++attempt) {
      Raw raw;
      Transfer t = perform(method, target, body, content_type, &raw, stop,
                           std::chrono::steady_clock::now() + options.request_timeout, nullptr);
      if (t.canceled) return fail(ErrorKind::kCanceled, what + ": canceled");
      bool transient = false;
      if (t.timed_out) {
        transient = true;
        last = "timed out";
      } else if (t.code != CURLE_OK) {
        if (!transient_curl(t.code)) {
          return fail(ErrorKind::kUnavailable, what + ": " + curl_easy_strerror(t.code));
        }
        transient = true;
        last = curl_easy_strerror(t.code);
      } else if (raw.status >= 200 && raw.status < 300) {
        if (raw.body.empty()) return json::object();
        try {
          return json::parse(raw.body);
        } catch (const json::exception& e) {
          return fail(ErrorKind::kInternal, what + ": response is not JSON: " + e.what());
        }
      } else {
        last = "HTTP " + std::to_string(raw.status) + " " + status_message(raw.body);
        transient = is_transient_status(raw.status, raw.body);
        if (!transient) return fail(kind_for_status(raw.status), what + ": " + last);
      }
      if (attempt >= options.max_attempts) {
        return fail(ErrorKind::kUnavailable,
                    what + ": " + last + " (after " + std::to_string(attempt) + " attempts)");
      }
      if (!clock.sleep_for(backoff(attempt, raw.retry_after), stop)) {
        return fail(ErrorKind::kCanceled, what + ": canceled");
      }
    }
  }
};

KubeClient::KubeClient(KubeConfig config, Clock& clock)
    : KubeClient(std::move(config), clock, Options{}) {}
KubeClient::KubeClient(KubeConfig config, Clock& clock, Options options)
    : impl_(std::make_unique<Impl>(std::move(config), clock, options)) {}
KubeClient::~KubeClient() = default;

Result<json> KubeClient::create(const std::string& ns, const std::string& resource,
                                const json& object) {
  return impl_->call("POST", collection_path(ns, resource), object.dump(), "application/json");
}

Result<json> KubeClient::update(const std::string& ns, const std::string& resource,
                                const json& object) {
  std::string name;
  if (object.contains("metadata") && object["metadata"].is_object())
    name = object["metadata"].value("name", "");
  if (name.empty())
    return fail(ErrorKind::kInvalidInput, "update " + resource + ": metadata.name is missing");
  return impl_->call("PUT", object_path(ns, resource, name), object.dump(), "application/json");
}

Result<json> KubeClient::get(const std::string& ns, const std::string& resource,
                             const std::string& name) {
  return impl_->call("GET", object_path(ns, resource, name), "", "");
}

Result<> KubeClient::remove(const std::string& ns, const std::string& resource,
                            const std::string& name, std::optional<int> grace_period_seconds) {
  json options = {
      {"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
  if (grace_period_seconds) options["gracePeriodSeconds"] = *grace_period_seconds;
  Result<json> r =
      impl_->call("DELETE", object_path(ns, resource, name), options.dump(), "application/json");
  if (!r && r.error().kind != ErrorKind::kNotFound) return fail(r.error());
  return {};
}

Result<std::vector<json>> KubeClient::list(const std::string& ns, const std::string& resource,
                                           const std::string& label_selector) {
  std::string target = collection_path(ns, resource);
  if (!label_selector.empty()) target += "?labelSelector=" + url_escape(label_selector);
  Result<json> r = impl_->call("GET", target, "", "");
  if (!r) return fail(r.error());
  std::vector<json> items;
  if (r->contains("items") && (*r)["items"].is_array()) {
    for (json& item : (*r)["items"]) items.push_back(std::move(item));
  }
  return items;
}

Result<json> KubeClient::wait_pod(const std::string& ns, const std::string& name,
                                  const std::function<bool(const json&)>& done,
                                  std::chrono::milliseconds timeout, std::stop_token stop) {
  Impl& d = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string what = "watch pod " + ns + "/" + name;
  int failures = 0;
  auto timed_out = [&] {
    return fail(ErrorKind::kTimeout,
                what + ": timed out after " + std::to_string(timeout.count()) + " ms");
  };
  for (;;) {  // list (GET), then watch from its resourceVersion
    if (stop.stop_requested()) return fail(ErrorKind::kCanceled, what + ": canceled");
    if (std::chrono::steady_clock::now() >= deadline) return timed_out();
    Result<json> pod = get(ns, "pods", name);
    if (!pod) {
      if (pod.error().kind == ErrorKind::kNotFound) return fail(pod.error());
      if (pod.error().kind == ErrorKind::kCanceled) return fail(pod.error());
      if (++failures >= d.options.max_attempts) return fail(pod.error());
      if (!d.clock.sleep_for(d.backoff(failures, ""), stop))
        return fail(ErrorKind::kCanceled, what + ": canceled");
      continue;
    }
    if (done(*pod)) return *pod;
    std::string rv = (*pod)["metadata"].value("resourceVersion", "");
    bool relist = false;
    while (!relist) {  // watch, reconnecting from the last resourceVersion
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return timed_out();
      auto remaining = std::chrono::duration_cast<std::chrono::seconds>(deadline - now) + 1s;
      long secs = std::min<long>(static_cast<long>(remaining.count()),
                                 static_cast<long>(d.options.watch_timeout.count()));
      std::string target =
          collection_path(ns, "pods") +
          "?watch=1&allowWatchBookmarks=true&fieldSelector=" + url_escape("metadata.name=" + name) +
          "&resourceVersion=" + url_escape(rv) + "&timeoutSeconds=" + std::to_string(secs);
      std::optional<Result<json>> result;
      int events = 0;
      std::function<bool(std::string_view)> on_line = [&](std::string_view line) {
        json ev;
        try {
          ev = json::parse(line);
        } catch (const json::exception&) {
          return true;  // a torn line: the reconnect resumes from rv
        }
        ++events;
        std::string type = ev.value("type", "");
        const json& obj = ev["object"];
        if (type == "ERROR") {
          int code = obj.value("code", 0);
          if (code == 410)
            relist = true;
          else
            failures++;
          return false;
        }
        if (obj.is_object() && obj.contains("metadata"))
          rv = obj["metadata"].value("resourceVersion", rv);
        if (type == "DELETED") {
          result = fail(ErrorKind::kNotFound, what + ": pod was deleted");
          return false;
        }
        if ((type == "ADDED" || type == "MODIFIED") && done(obj)) {
          result = obj;
          return false;
        }
        return true;
      };
      Raw raw;
      Transfer t = d.perform("GET", target, "", "", &raw, stop, deadline, &on_line);
      if (result) return std::move(*result);
      if (t.canceled) return fail(ErrorKind::kCanceled, what + ": canceled");
      if (t.timed_out) return timed_out();
      if (relist) break;
      if (t.code == CURLE_OK && raw.status == 410) {
        relist = true;
        break;
      }
      if (t.code == CURLE_OK && raw.status != 200) {
        if (!is_transient_status(raw.status, raw.body)) {
          return fail(kind_for_status(raw.status), what + ": HTTP " + std::to_string(raw.status) +
                                                       " " + status_message(raw.body));
        }
        ++failures;
      } else if (t.code != CURLE_OK && !t.handler_stopped) {
        if (!transient_curl(t.code))
          return fail(ErrorKind::kUnavailable, what + ": " + curl_easy_strerror(t.code));
        if (events == 0) ++failures;  // a stream that delivered something was healthy
      } else if (events > 0) {
        failures = 0;
      }
      if (failures >= d.options.max_attempts) {
        return fail(ErrorKind::kUnavailable,
                    what + ": watch kept failing (" + std::to_string(failures) + " times)");
      }
      if (failures > 0 && !d.clock.sleep_for(d.backoff(failures, raw.retry_after), stop)) {
        return fail(ErrorKind::kCanceled, what + ": canceled");
      }
    }
  }
}

Result<int> KubeClient::exec(const std::string& ns, const std::string& name,
                             const std::string& container, const std::vector<std::string>& command,
                             std::string_view stdin_data,
                             const std::function<void(int channel, std::string_view)>& output,
                             std::stop_token stop) {
  Impl& d = *impl_;
  std::string target = object_path(ns, "pods", name) + "/exec?";
  if (!container.empty()) target += "container=" + url_escape(container) + "&";
  for (const std::string& arg : command) target += "command=" + url_escape(arg) + "&";
  bool with_stdin = !stdin_data.empty();
  target += std::string("stdin=") + (with_stdin ? "true" : "false") + "&stdout=true&stderr=true";
  for (int attempt = 1;; ++attempt) {
    Result<int> r =
        websocket_exec(d.config, d.tokens.token(), target, with_stdin, stdin_data, output, stop);
    if (r || r.error().kind != ErrorKind::kUnavailable) return r;
    // Nothing ran. A missing pod or container will not get better: say so instead of retrying.
    Result<json> pod = get(ns, "pods", name);
    if (!pod && pod.error().kind != ErrorKind::kUnavailable) return fail(pod.error());
    if (pod) {
      std::string why = cannot_start_reason(*pod, container);
      if (!why.empty()) {
        return fail(ErrorKind::kInvalidInput, "exec in " + ns + "/" + name + ": " + why);
      }
    }
    if (attempt >= d.options.max_attempts) return r;
    if (!d.clock.sleep_for(d.backoff(attempt, ""), stop)) {
      return fail(ErrorKind::kCanceled, "exec in " + ns + "/" + name + ": canceled");
    }
  }
}

Result<> KubeClient::attach_stdin(const std::string& ns, const std::string& name,
                                  const std::string& container, std::string_view stdin_data,
                                  std::stop_token stop) {
  Impl& d = *impl_;
  std::string target = object_path(ns, "pods", name) +
                       "/attach?container=" + url_escape(container) +
                       "&stdin=true&stdout=false&stderr=false";
  auto ignore = [](int, std::string_view) {};
  for (int attempt = 1;; ++attempt) {
    Result<int> r =
        websocket_exec(d.config, d.tokens.token(), target, true, stdin_data, ignore, stop,
                       /*detach_after_stdin=*/true);
    if (r) return {};
    if (r.error().kind != ErrorKind::kUnavailable) return fail(r.error());
    // Nothing was attached; the same pod check as exec's decides whether a retry can help.
    Result<json> pod = get(ns, "pods", name);
    if (!pod && pod.error().kind != ErrorKind::kUnavailable) return fail(pod.error());
    if (pod) {
      std::string why = cannot_start_reason(*pod, container);
      if (!why.empty()) {
        return fail(ErrorKind::kInvalidInput, "attach to " + ns + "/" + name + ": " + why);
      }
    }
    if (attempt >= d.options.max_attempts) return fail(r.error());
    if (!d.clock.sleep_for(d.backoff(attempt, ""), stop)) {
      return fail(ErrorKind::kCanceled, "attach to " + ns + "/" + name + ": canceled");
    }
  }
}

}  // namespace glr::kube

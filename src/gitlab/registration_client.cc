// Runner lifecycle calls and the mapping of GitLab's answers to errors (api spec §1).
#include "gitlab/registration_client.h"

#include <nlohmann/json.hpp>

#include <random>
#include <utility>

#include "gitlab/http_gitlab_client.h"
#include "util/version.h"

namespace glr {
namespace {

using json = nlohmann::json;

// A fresh UUIDv4 without dashes for X-Request-Id (§0.2): version 4, RFC 4122 variant.
std::string request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string out(32, '0');
  for (char& c : out) c = hex[rng() & 0xf];
  out[12] = '4';
  out[16] = hex[8 + (rng() & 0x3)];
  return out;
}

// Flattens {"message": "..."} or {"message": {"field": ["a", "b"]}} (§0.6).
std::string server_message(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  const json* m = nullptr;
  if (j.contains("message")) m = &j["message"];
  else if (j.contains("error")) m = &j["error"];
  if (m == nullptr) return {};
  if (m->is_string()) return m->get<std::string>();
  if (m->is_object()) {
    std::string out;
    for (auto it = m->begin(); it != m->end(); ++it) {
      if (!out.empty()) out += ", ";
      out += it.key() + ": ";
      if (it->is_array()) {
        for (size_t i = 0; i < it->size(); ++i) out += (i ? "; " : "") + (*it)[i].dump();
      } else {
        out += it->dump();
      }
    }
    return out;
  }
  return m->dump();
}

json info_json(const RunnerInfoPayload& info) {
  json j{{"name", "gitlab-runner"}, {"version", compat_version()}, {"revision", revision()},
         {"platform", platform()}, {"architecture", architecture()}};
  if (!info.executor.empty()) j["executor"] = info.executor;
  if (!info.shell.empty()) j["shell"] = info.shell;
  json features = json::object();
  for (const auto& [k, v] : info.features) features[k] = v;
  j["features"] = features;
  j["config"] = json{{"gpus", ""}};
  return j;
}

Result<RunnerTokenInfo> token_info(const HttpResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(ErrorKind::kUnavailable, "unexpected answer (not JSON): HTTP " + std::to_string(r.status));
  RunnerTokenInfo info;
  if (j.contains("id") && j["id"].is_number_integer()) info.id = j["id"].get<int64_t>();
  if (j.contains("token") && j["token"].is_string()) info.token = Secret{j["token"].get<std::string>()};
  if (j.contains("token_expires_at") && j["token_expires_at"].is_string())
    info.token_expires_at = j["token_expires_at"].get<std::string>();
  if (info.token.empty()) return fail(ErrorKind::kUnavailable, "the answer carries no token");
  return info;
}

json attributes_json(const RunnerAttributes& a) {
  json j;
  if (!a.description.empty()) j["description"] = a.description;
  if (!a.maintenance_note.empty()) j["maintenance_note"] = a.maintenance_note;
  if (!a.tag_list.empty()) j["tag_list"] = a.tag_list;
  j["run_untagged"] = a.run_untagged;
  j["locked"] = a.locked;
  if (!a.access_level.empty()) j["access_level"] = a.access_level;
  if (a.maximum_timeout > 0) j["maximum_timeout"] = a.maximum_timeout;
  j["paused"] = a.paused;
  return j;
}

}  // namespace

RegistrationClient::RegistrationClient(HttpTransport& transport, TlsFiles tls)
    : transport_(transport), tls_(std::move(tls)) {}

Result<HttpResponse> RegistrationClient::call(const std::string& url, const std::string& method,
                                              const std::string& path, const std::string& body,
                                              const std::vector<HttpHeader>& headers,
                                              int expected) {
  Result<std::string> base = HttpGitLabClient::api_base(url);
  if (!base) return fail(ErrorKind::kInvalidInput, url + ": " + base.error().message);
  HttpRequest req;
  req.method = method;
  req.url = *base + path;
  req.headers = {{"User-Agent", user_agent()}, {"Accept", "application/json"},
                 {"X-Request-Id", request_id()}};
  if (!body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  req.headers.insert(req.headers.end(), headers.begin(), headers.end());
  req.body = body;
  req.timeout = std::chrono::minutes(1);
  req.ca_file = tls_.ca_file;
  req.cert_file = tls_.cert_file;
  req.key_file = tls_.key_file;
  Result<HttpResponse> r = transport_.send(req, {});
  if (!r) {
    // The transport's message usually names the request already.
    std::string m = r.error().message;
    if (m.find(req.url) == std::string::npos) m = method + " " + req.url + ": " + m;
    return fail(ErrorKind::kUnavailable, m);
  }
  if (r->status == expected) return r;
  std::string msg = server_message(r->body);
  std::string what = method + " " + req.url + ": HTTP " + std::to_string(r->status) +
                     (msg.empty() ? "" : " (" + msg + ")");
  switch (r->status) {
    case 401:
    case 403: return fail(ErrorKind::kUnauthorized, what);
    case 404:
    case 410: return fail(ErrorKind::kNotFound, what);
    case 409:
    case 422: return fail(ErrorKind::kConflict, what);
    case 400: return fail(ErrorKind::kInvalidInput, what);
    default: return fail(ErrorKind::kUnavailable, what);
  }
}

Result<RunnerTokenInfo> RegistrationClient::register_runner(const std::string& url,
                                                            const Secret& registration_token,
                                                            const RunnerAttributes& attributes,
                                                            const RunnerInfoPayload& info) {
  json body = attributes_json(attributes);
  body["token"] = registration_token.value;
  body["info"] = info_json(info);
  Result<HttpResponse> r = call(url, "POST", "runners", body.dump(),
                                {{"RUNNER-TOKEN", registration_token.value}}, 201);
  if (!r) return fail(r.error());
  return token_info(*r);
}

Result<RunnerTokenInfo> RegistrationClient::create_runner(const std::string& url, const Secret& pat,
                                                          const CreateRunnerRequest& request) {
  json body = attributes_json(request.attributes);
  body["runner_type"] = request.runner_type;
  if (request.group_id > 0) body["group_id"] = request.group_id;
  if (request.project_id > 0) body["project_id"] = request.project_id;
  Result<HttpResponse> r =
      call(url, "POST", "user/runners", body.dump(), {{"PRIVATE-TOKEN", pat.value}}, 201);
  if (!r) return fail(r.error());
  return token_info(*r);
}

Result<RunnerTokenInfo> RegistrationClient::verify_runner(const std::string& url,
                                                          const Secret& token,
                                                          const std::string& system_id,
                                                          const RunnerInfoPayload& info) {
  json body{{"token", token.value}, {"info", info_json(info)}};
  if (!system_id.empty()) body["system_id"] = system_id;
  Result<HttpResponse> r =
      call(url, "POST", "runners/verify", body.dump(), {{"RUNNER-TOKEN", token.value}}, 200);
  if (!r) return fail(r.error());
  // Very old servers answer a plain-text 200 (§1.4): still valid.
  Result<RunnerTokenInfo> parsed = token_info(*r);
  if (!parsed) return RunnerTokenInfo{0, token, ""};
  return parsed;
}

Result<> RegistrationClient::unregister_runner(const std::string& url, const Secret& token) {
  json body{{"token", token.value}};
  Result<HttpResponse> r =
      call(url, "DELETE", "runners", body.dump(), {{"RUNNER-TOKEN", token.value}}, 204);
  if (!r) return fail(r.error());
  return {};
}

Result<> RegistrationClient::unregister_manager(const std::string& url, const Secret& token,
                                                const std::string& system_id) {
  json body{{"token", token.value}, {"system_id", system_id}};
  Result<HttpResponse> r =
      call(url, "DELETE", "runners/managers", body.dump(), {{"RUNNER-TOKEN", token.value}}, 204);
  if (!r) return fail(r.error());
  return {};
}

Result<RunnerTokenInfo> RegistrationClient::reset_token(const std::string& url,
                                                        const Secret& token) {
  json body{{"token", token.value}};
  Result<HttpResponse> r = call(url, "POST", "runners/reset_authentication_token", body.dump(), {}, 201);
  if (!r) return fail(r.error());
  return token_info(*r);
}

Result<RunnerTokenInfo> RegistrationClient::reset_token_with_pat(const std::string& url,
                                                                 int64_t runner_id,
                                                                 const Secret& pat) {
  Result<HttpResponse> r =
      call(url, "POST", "runners/" + std::to_string(runner_id) + "/reset_authentication_token", "",
           {{"PRIVATE-TOKEN", pat.value}}, 201);
  if (!r) return fail(r.error());
  return token_info(*r);
}

}  // namespace glr

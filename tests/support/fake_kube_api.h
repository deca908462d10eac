// An in-memory KubeApi for executor unit tests: stores objects, lets the test script pod
// status and exec results, and records every call.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kubernetes/kube_api.h"

namespace glr {

class FakeKubeApi final : public kube::KubeApi {
 public:
  // Given the created pod, the status the fake reports ({"phase": ..., "containerStatuses":
  // ...}). Default: Running with build and helper running.
  std::function<nlohmann::json(const nlohmann::json& pod)> pod_status = [](const nlohmann::json& pod) {
    nlohmann::json statuses = nlohmann::json::array();
    for (const auto& c : pod["spec"]["containers"]) {
      statuses.push_back({{"name", c["name"]}, {"state", {{"running", nlohmann::json::object()}}}});
    }
    return nlohmann::json{{"phase", "Running"}, {"containerStatuses", statuses}};
  };
  // exec: writes `output` on stdout, returns `exit_code`; blocks until stop when `hang`.
  std::string exec_output = "hello\n";
  int exec_exit_code = 0;
  bool exec_hang = false;
  int fail_creates = 0;  // the next N creates fail with kUnavailable
  // Attach strategy: an attach "runs" the stage whose script path follows detect_shell_script
  // in the command line, appending its start marker, `attach_output` and its exit marker
  // (`attach_exit_code`) to the pod's log, which `read-logs` execs stream with offsets.
  std::string attach_output = "hello\n";
  int attach_exit_code = 0;
  bool attach_runs_stage = true;  // false: the stage never ends (cancel tests)
  int fail_attaches = 0;           // the next N attaches fail with kIo before running anything
  int read_logs_drops = 0;         // the next N read-logs streams break (kIo) after one line
  bool fail_updates = false;

  struct ExecCall {
    std::string container;
    std::vector<std::string> command;
    std::string stdin_data;
  };

  Result<nlohmann::json> create(const std::string& ns, const std::string& resource,
                                const nlohmann::json& object) override {
    std::lock_guard lock(mu_);
    calls.push_back("create " + resource);
    if (fail_creates > 0) {
      --fail_creates;
      return fail(ErrorKind::kUnavailable, "injected");
    }
    std::string name = object["metadata"].value("name", "");
    if (objects.count(key(ns, resource, name)) > 0) return fail(ErrorKind::kConflict, "exists");
    nlohmann::json stored = object;
    stored["metadata"]["uid"] = "uid-" + name;
    objects[key(ns, resource, name)] = stored;
    return stored;
  }
  Result<nlohmann::json> update(const std::string& ns, const std::string& resource,
                                const nlohmann::json& object) override {
    std::lock_guard lock(mu_);
    std::string name = object["metadata"].value("name", "");
    calls.push_back("update " + resource + " " + name);
    if (fail_updates) return fail(ErrorKind::kUnauthorized, "forbidden");
    if (objects.count(key(ns, resource, name)) == 0) return fail(ErrorKind::kNotFound, "gone");
    objects[key(ns, resource, name)] = object;
    return object;
  }
  Result<nlohmann::json> get(const std::string& ns, const std::string& resource,
                             const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = objects.find(key(ns, resource, name));
    if (it == objects.end()) return fail(ErrorKind::kNotFound, "not found");
    return with_status(resource, it->second);
  }
  Result<> remove(const std::string& ns, const std::string& resource, const std::string& name,
                  std::optional<int> grace) override {
    std::lock_guard lock(mu_);
    calls.push_back("delete " + resource + " " + name + " grace=" +
                    (grace ? std::to_string(*grace) : std::string("default")));
    objects.erase(key(ns, resource, name));
    // Background garbage collection of what the deleted object owned.
    for (auto it = objects.begin(); it != objects.end();) {
      bool owned = false;
      for (const auto& ref : it->second["metadata"].value("ownerReferences", nlohmann::json::array())) {
        owned = owned || ref.value("uid", "") == "uid-" + name;
      }
      it = owned ? objects.erase(it) : std::next(it);
    }
    return {};
  }
  Result<std::vector<nlohmann::json>> list(const std::string& ns, const std::string& resource,
                                           const std::string& selector) override {
    std::lock_guard lock(mu_);
    calls.push_back("list " + resource + " " + selector);
    std::vector<nlohmann::json> out;
    std::string label_key = selector.substr(0, selector.find('='));
    std::string rest = selector.substr(selector.find('=') + 1);
    std::string value = rest.substr(0, rest.find(','));
    for (const auto& [k, obj] : objects) {
      if (k.rfind(ns + "/" + resource + "/", 0) != 0) continue;
      const auto& labels = obj["metadata"].value("labels", nlohmann::json::object());
      if (labels.value(label_key, "") == value) out.push_back(obj);
    }
    return out;
  }
  Result<nlohmann::json> wait_pod(const std::string& ns, const std::string& name,
                                  const std::function<bool(const nlohmann::json&)>& done,
                                  std::chrono::milliseconds, std::stop_token stop) override {
    Result<nlohmann::json> pod = get(ns, "pods", name);
    if (!pod) return pod;
    if (stop.stop_requested()) return fail(ErrorKind::kCanceled, "stopped");
    if (done(*pod)) return pod;
    ++wait_timeouts;
    return fail(ErrorKind::kTimeout, "timeout");
  }
  Result<> attach_stdin(const std::string& ns, const std::string& name,
                        const std::string& container, std::string_view stdin_data,
                        std::stop_token) override {
    {
      std::lock_guard lock(mu_);
      if (objects.count(key(ns, "pods", name)) == 0) return fail(ErrorKind::kNotFound, "no pod");
      attaches.push_back({container, {}, std::string(stdin_data)});
      if (fail_attaches > 0) {
        --fail_attaches;
        return fail(ErrorKind::kIo, "injected attach drop");
      }
      if (!attach_runs_stage) return {};
      std::string line(stdin_data);
      size_t at = line.find("detect_shell_script ");
      std::string path;
      if (at != std::string::npos) {
        at += std::string("detect_shell_script ").size();
        path = line.substr(at, line.find(';', at) - at);
      }
      pod_log += "{\"script\": \"" + path + "\"}\n" + attach_output + "\n" +
                 "{\"command_exit_code\": " + std::to_string(attach_exit_code) +
                 ", \"script\": \"" + path + "\"}\n";
    }
    log_cv_.notify_all();
    return {};
  }
  Result<int> exec(const std::string& ns, const std::string& name, const std::string& container,
                   const std::vector<std::string>& command, std::string_view stdin_data,
                   const std::function<void(int, std::string_view)>& output,
                   std::stop_token stop) override {
    if (command.size() > 5 && command[1] == "read-logs") return read_logs(command, output, stop);
    {
      std::lock_guard lock(mu_);
      if (objects.count(key(ns, "pods", name)) == 0) return fail(ErrorKind::kNotFound, "no pod");
      execs.push_back({container, command, std::string(stdin_data)});
    }
    output(1, exec_output);
    if (exec_hang) {
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock lock(m);
      cv.wait(lock, stop, [] { return false; });
      return fail(ErrorKind::kCanceled, "stopped");
    }
    return exec_exit_code;
  }

  std::vector<std::string> calls;
  std::vector<ExecCall> execs;
  std::vector<ExecCall> attaches;  // container and stdin of each attach
  std::string pod_log;             // what the stages appended to the log file
  int read_logs_streams = 0;
  std::map<std::string, nlohmann::json> objects;
  int wait_timeouts = 0;

 private:
  static std::string key(const std::string& ns, const std::string& r, const std::string& n) {
    return ns + "/" + r + "/" + n;
  }
  nlohmann::json with_status(const std::string& resource, nlohmann::json obj) {
    if (resource == "pods") obj["status"] = pod_status(obj);
    return obj;
  }
  // `gitlab-runner-helper read-logs --path P --offset N ...`: "<offset after> <line>" per line.
  Result<int> read_logs(const std::vector<std::string>& command,
                        const std::function<void(int, std::string_view)>& output,
                        std::stop_token stop) {
    size_t pos = std::stoul(command[5]);
    std::unique_lock lock(mu_);
    ++read_logs_streams;
    for (;;) {
      size_t nl = pod_log.find('\n', pos);
      while (pos < pod_log.size() && nl != std::string::npos) {
        std::string line = pod_log.substr(pos, nl + 1 - pos);
        pos = nl + 1;
        std::string out = std::to_string(pos) + " " + line;
        bool drop = read_logs_drops > 0;
        if (drop) --read_logs_drops;
        lock.unlock();
        output(1, out);
        if (drop) output(1, "99999 a line cut short");  // no newline: must be read again
        lock.lock();
        if (drop) return fail(ErrorKind::kIo, "injected stream drop");
        nl = pod_log.find('\n', pos);
      }
      if (!log_cv_.wait_for(lock, stop, std::chrono::milliseconds(20), [] { return false; }) &&
          stop.stop_requested()) {
        return fail(ErrorKind::kCanceled, "stopped");
      }
    }
  }

  std::mutex mu_;
  std::condition_variable_any log_cv_;
};

}  // namespace glr

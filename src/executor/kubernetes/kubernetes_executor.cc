// Kubernetes executor (executors §7.4): prepare creates the pod, run starts stage scripts
// (attach, or exec with the legacy strategy), cleanup deletes what prepare created.
#include "executor/kubernetes/kubernetes_executor.h"

#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>

#include "executor/kubernetes/pod_builder.h"
#include "script/bash_script.h"
#include "script/job_variables.h"
#include "util/strings.h"
#include "util/log.h"
#include "util/version.h"

namespace glr::kube {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The trace's "plain" line style (executors §2.2), as in the shell executor.
std::string plain_line(std::string_view text) {
  return "\x1b[0K" + std::string(text) + "\x1b[0;m\n";
}

std::string random_suffix() {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::mt19937 gen(rd());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kChars) - 2);
  std::string s;
  for (int i = 0; i < 8; ++i) s += kChars[pick(gen)];
  return s;
}

// Waiting reasons that will not resolve by themselves (the official's terminal errors).
const std::set<std::string>& image_pull_reasons() {
  static const std::set<std::string> reasons = {"ErrImagePull", "ImagePullBackOff",
                                                "InvalidImageName", "ErrImageNeverPull"};
  return reasons;
}
const std::set<std::string>& fatal_reasons() {
  static const std::set<std::string> reasons = {"CreateContainerConfigError",
                                                "CreateContainerError", "RunContainerError"};
  return reasons;
}

struct PodState {
  std::string phase;
  bool ready = false;          // build and helper are running
  std::string failure;         // non-empty: give up with this message
  bool image_pull = false;
};

PodState inspect(const json& pod) {
  PodState st;
  const json& status = pod.contains("status") ? pod["status"] : json::object();
  st.phase = status.value("phase", "Pending");
  if (st.phase == "Succeeded" || st.phase == "Failed") {
    std::string name = pod.contains("metadata") ? pod["metadata"].value("name", "") : "";
    st.failure = "pod " + name + " is " + st.phase +
                 (status.contains("message") ? ": " + status.value("message", "") : "");
    return st;
  }
  int running = 0;
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    if (!status.contains(list)) continue;
    for (const json& cs : status[list]) {
      std::string name = cs.value("name", "");
      const json& state = cs.contains("state") ? cs["state"] : json::object();
      if (state.contains("waiting")) {
        std::string reason = state["waiting"].value("reason", "");
        std::string message = state["waiting"].value("message", "");
        if (image_pull_reasons().count(reason) > 0) {
          st.image_pull = true;
          st.failure = std::string(kImagePullFailedPrefix) + ": " +
                       (message.empty() ? reason : message);
          return st;
        }
        if (fatal_reasons().count(reason) > 0) {
          st.failure = "container \"" + name + "\": " + reason +
                       (message.empty() ? "" : ": " + message);
          return st;
        }
      }
      if (std::string(list) == "containerStatuses" && (name == "build" || name == "helper")) {
        if (state.contains("running")) ++running;
        if (state.contains("terminated")) {
          st.failure = "container \"" + name + "\" terminated with exit code " +
                       std::to_string(state["terminated"].value("exitCode", 0));
          return st;
        }
      }
    }
  }
  st.ready = st.phase == "Running" && running == 2;
  return st;
}

}  // namespace

std::string default_helper_image(const KubernetesSettings& config) {
  // The official reference (§7.6): <arch>-v<version>, arch from the node selector.
  std::string arch = "x86_64";
  auto it = config.node_selector.find("kubernetes.io/arch");
  if (it != config.node_selector.end()) {
    arch = it->second == "amd64" ? "x86_64" : it->second;
  }
  return std::string("registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:") + arch +
         "-v" + compat_version();
}

KubernetesExecutor::KubernetesExecutor(std::shared_ptr<KubeApi> api,
                                       KubernetesExecutorOptions options)
    : api_(std::move(api)), options_(std::move(options)) {
  traits_.name = "kubernetes";
  traits_.shell = "bash";
  traits_.shared_builds_dir = false;
  traits_.disposable_environment = true;
  traits_.default_builds_dir = "/builds";
  traits_.default_cache_dir = "/cache";
  traits_.exit_error_prefix = "command terminated with exit code";
  traits_.helper_command = "/usr/bin/gitlab-runner-helper";
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) traits_.runner_hostname = host;
}

KubernetesExecutor::~KubernetesExecutor() { cleanup(); }

Result<> KubernetesExecutor::prepare(const JobSpec& job, const PrepareOptions& options,
                                     TraceSink& trace) {
  cleanup();  // a retried prepare replaces the previous attempt's pod
  // nlohmann throws on objects of an unexpected shape; that is an answer we cannot use.
  try {
    return prepare_pod(job, options, trace);
  } catch (const std::exception& e) {
    return fail(ErrorKind::kUnavailable, std::string("unexpected Kubernetes object: ") + e.what());
  }
}

Result<> KubernetesExecutor::prepare_pod(const JobSpec& job, const PrepareOptions& options,
                                         TraceSink& trace) {
  PodInput in;
  in.config = options_.config;
  in.job = job;
  in.variables = options.variables.empty() ? job.variables : options.variables;
  in.runner_name = options_.runner_name;
  in.short_token = options_.short_token;
  in.concurrent_project_id = options.concurrent_project_id;
  in.builds_dir = options.builds_dir.empty() ? traits_.default_builds_dir : options.builds_dir;
  in.helper_image = options_.config.helper_image.empty()
                        ? default_helper_image(options_.config)
                        : expand(options_.config.helper_image, in.variables, "");
  in.random_suffix = options_.random_suffix ? options_.random_suffix() : random_suffix();
  in.shell_command = detect_shell_script();
  attach_ = !use_legacy_exec_strategy(in.variables);
  in.attach = attach_;
  scripts_dir_ = scripts_dir(job);
  log_file_ = log_file(job);
  Result<PodPlan> plan = build_pod(in);
  if (!plan) return fail(plan.error());

  std::string image = plan->pod["spec"]["containers"][0].value("image", "");
  for (const std::string& m : plan->messages) {
    if (m.starts_with("Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS")) continue;
    trace.write(kRunnerStream, plain_line(m));
  }
  trace.write(kRunnerStream, plain_line("Using Kubernetes executor with image " + image + " ..."));
  if (attach_) trace.write(kRunnerStream, plain_line("Using attach strategy to execute scripts..."));
  for (const std::string& m : plan->messages) {
    if (m.starts_with("Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS")) {
      trace.write(kRunnerStream, plain_line(m));
    }
  }
  ns_ = plan->ns;

  json secret;
  if (plan->secret) {
    Result<json> created = api_->create(ns_, "secrets", *plan->secret);
    // A retried create may have been stored already (kConflict): the secret is ours.
    if (!created && created.error().kind != ErrorKind::kConflict) {
      return fail(created.error().kind, "creating the image pull secret: " + created.error().message);
    }
    if (created) secret = *created;
    secret_name_ = plan->name;
  }
  Result<json> pod = api_->create(ns_, "pods", plan->pod);
  if (!pod && pod.error().kind != ErrorKind::kConflict) {
    return fail(pod.error().kind, "creating the job pod: " + pod.error().message);
  }
  pod_name_ = plan->name;
  // The pod owns its secret, so the cluster deletes the secret with the pod (§7.4).
  if (pod && secret.is_object() && secret.contains("metadata")) {
    std::string uid = (*pod)["metadata"].value("uid", "");
    if (!uid.empty()) {
      secret["metadata"]["ownerReferences"] = json::array(
          {{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", pod_name_}, {"uid", uid}}});
      Result<json> owned = api_->update(ns_, "secrets", secret);
      if (owned) {
        secret_owned_ = true;
      } else {
        log_warning("making the pod own its secret failed; the secret is deleted explicitly",
                    {{"secret", ns_ + "/" + secret_name_}, {"error", owned.error().message}});
      }
    }
  }
  if (Result<> running = wait_for_pod(trace, options.stop); !running) return running;
  if (!attach_) return {};
  // setupTrappingScripts, then the log processor (ensurePodsConfigured).
  if (Result<> saved = save_script("build", scripts_dir_ + "/detect_shell_script",
                                   detect_shell_script(), options.stop);
      !saved) {
    return fail(saved.error().kind,
                "setting up trapping scripts on emptyDir: " + saved.error().message);
  }
  LogProcessor::Options lo;
  lo.ns = ns_;
  lo.pod = pod_name_;
  lo.log_path = log_file_;
  lo.backoff_min = options_.log_reconnect_backoff;
  logs_ = std::make_unique<LogProcessor>(*api_, lo);
  logs_->start();
  return {};
}

Result<> KubernetesExecutor::save_script(const std::string& container, const std::string& path,
                                         const std::string& content, std::stop_token stop) {
  // shells/bash.go generateSaveScript, with printf instead of echo: an echo that interprets
  // backslashes (dash) would change the script.
  std::string save = "printf '%s\\n' " + bash_quote(content) + " > " + path + ".tmp\n" +
                     "chmod 777 " + path + ".tmp\n" + "mv " + path + ".tmp " + path + "\n";
  std::string output;
  // Attempts that started nothing are retried inside exec; a script that failed to save is
  // saved again (it is idempotent), a few times.
  Result<int> code = fail(ErrorKind::kInternal, "not run");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    output.clear();
    code = api_->exec(ns_, pod_name_, container, {"sh", "-c", detect_shell_script()}, save,
                      [&output](int, std::string_view bytes) {
                        if (output.size() < 4096) output.append(bytes);
                      },
                      stop);
    if (code && *code == 0) return {};
    if (stop.stop_requested()) return fail(ErrorKind::kCanceled, "build aborted");
    if (!code && code.error().kind != ErrorKind::kIo && code.error().kind != ErrorKind::kUnavailable) {
      break;
    }
  }
  if (!code) return fail(code.error().kind, "saving " + path + " in \"" + container + "\": " +
                                                code.error().message);
  return fail(ErrorKind::kUnavailable, "saving " + path + " in \"" + container +
                                           "\": command terminated with exit code " +
                                           std::to_string(*code) + ": " + output);
}

Result<> KubernetesExecutor::wait_for_pod(TraceSink& trace, std::stop_token stop) {
  // The official polls every poll_interval, at most poll_timeout / poll_interval times; a watch
  // per interval answers as soon as the pod changes.
  const int interval = options_.config.poll_interval;
  const int attempts = std::max(1, options_.config.poll_timeout / interval);
  std::string last_phase = "Pending";
  json last_pod = json::object();
  for (int attempt = 0; attempt < attempts; ++attempt) {
    Result<json> pod = api_->wait_pod(
        ns_, pod_name_,
        [&](const json& p) {
          try {
            PodState st = inspect(p);
            last_phase = st.phase;
            last_pod = p;
            return st.ready || !st.failure.empty();
          } catch (const std::exception&) {
            return false;  // a pod we cannot read yet; the next event may be complete
          }
        },
        std::chrono::seconds(interval), stop);
    if (pod) {
      PodState st = inspect(*pod);
      if (st.ready) return {};
      // The official treats an image that cannot be pulled as a job failure, not a system one.
      return fail(st.image_pull ? ErrorKind::kInvalidInput : ErrorKind::kUnavailable, st.failure);
    }
    if (pod.error().kind == ErrorKind::kNotFound) {
      return fail(ErrorKind::kUnavailable, "pod " + ns_ + "/" + pod_name_ + " was deleted");
    }
    if (pod.error().kind != ErrorKind::kTimeout) return fail(pod.error());
    // Stream 00, stderr, like the official's wait loop, then the pod conditions' reasons
    // (print_pod_warning_events, on by default).
    std::string node = "<unknown>";
    if (last_pod.contains("spec") && last_pod["spec"].value("nodeName", "") != "") {
      node = last_pod["spec"].value("nodeName", "");
    }
    const StreamId runner_stderr{0, true};
    trace.write(runner_stderr, plain_line("Waiting for pod " + ns_ + "/" + pod_name_ +
                                          " to be running on the node " + node +
                                          ", status is " + last_phase));
    if (last_pod.contains("status") && last_pod["status"].contains("conditions")) {
      for (const json& cond : last_pod["status"]["conditions"]) {
        std::string reason = cond.value("reason", "");
        if (reason.empty()) continue;
        trace.write(runner_stderr, plain_line("\t" + reason + ": \"" + cond.value("message", "") + "\""));
      }
    }
  }
  return fail(ErrorKind::kTimeout,
              "timed out waiting for pod to start (last phase: " + last_phase + ")");
}

Result<ExitStatus> KubernetesExecutor::run(const StageScript& script, TraceSink& trace,
                                           std::stop_token stop) {
  if (pod_name_.empty()) return fail(ErrorKind::kInternal, "run before a successful prepare");
  try {
    return attach_ ? run_attach(script, trace, stop) : run_exec(script, trace, stop);
  } catch (const std::exception& e) {
    return fail(ErrorKind::kUnavailable, std::string("unexpected Kubernetes object: ") + e.what());
  }
}

Result<ExitStatus> KubernetesExecutor::run_attach(const StageScript& script, TraceSink& trace,
                                                  std::stop_token stop) {
  const std::string container = script.in_build_container ? "build" : "helper";
  const std::string path = scripts_dir_ + "/" + script.stage;
  if (!logs_) return fail(ErrorKind::kInternal, "attach strategy without a log processor");
  Result<> saved = save_script(container, path, with_json_status_markers(script.script), stop);
  if (!saved) {
    if (saved.error().kind == ErrorKind::kCanceled) stopped_ = true;
    return fail(saved.error());
  }
  // getContainerInfo: the detect script runs the stage script in a background subshell whose
  // output is appended to the log; a stage script that cannot even start gets its exit marker
  // from outside (fallbackExitStatusMarkerFmt).
  std::string command =
      "sh -c '((" + scripts_dir_ + "/detect_shell_script " + path +
      "; ec=$?; if [ $ec -ne 0 ]; then echo; echo \"{\\\"command_exit_code\\\": $ec, "
      "\\\"script\\\": \\\"" + path + "\\\"}\"; fi) 2>&1 | tee -a " + log_file_ + ") &'\n";
  // The marker's script is the path as the pod sees it; match on the stage's file name.
  auto is_this_stage = [&](const StageStatus& st) {
    return st.script == path || st.script.ends_with("/" + script.stage);
  };
  // checkScriptExecution: an attach that broke may still have delivered the command; it is
  // retried only while the log shows no sign of this stage.
  for (int attempt = 1;; ++attempt) {
    Result<> attached = api_->attach_stdin(ns_, pod_name_, container, command, stop);
    if (attached) break;
    if (stop.stop_requested()) {
      stopped_ = true;
      return fail(ErrorKind::kCanceled, "build aborted");
    }
    if (attached.error().kind != ErrorKind::kIo || attempt >= 3) {
      return fail(attached.error().kind,
                  "attach to container \"" + container + "\": " + attached.error().message);
    }
    log_warning("attach broke; checking whether the stage started",
                {{"pod", ns_ + "/" + pod_name_}, {"stage", script.stage},
                 {"error", attached.error().message}});
    std::chrono::steady_clock::time_point until = std::chrono::steady_clock::now() + std::chrono::seconds(options_.config.poll_interval);
    std::optional<StageStatus> seen;
    std::vector<LogEvent> early;
    while (std::chrono::steady_clock::now() < until && !stop.stop_requested()) {
      std::vector<LogEvent> got = logs_->take(200ms, stop);
      for (LogEvent& e : got) {
        if (e.status && is_this_stage(*e.status)) seen = e.status;
        early.push_back(std::move(e));
      }
      if (seen) break;
    }
    // Give what was read back to the wait below, in order.
    for (LogEvent& e : early) {
      if (!e.text.empty()) trace.write(kScriptStdout, e.text);
      if (e.status && e.status->exit_code && is_this_stage(*e.status)) {
        trace.flush(kScriptStdout);
        return ExitStatus{.code = *e.status->exit_code, .signal = 0};
      }
    }
    if (seen) break;
  }

  // Wait for the exit marker; poll the pod every poll_interval (watchPodStatus).
  const auto poll = std::chrono::seconds(std::max(1, options_.config.poll_interval));
  std::chrono::steady_clock::time_point next_check = std::chrono::steady_clock::now() + poll;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_check - std::chrono::steady_clock::now());
    std::vector<LogEvent> events = logs_->take(std::max(left, 1ms), stop);
    for (LogEvent& e : events) {
      if (!e.error.empty()) {
        trace.flush(kScriptStdout);
        return fail(ErrorKind::kUnavailable, e.error);
      }
      if (e.status) {
        if (e.status->exit_code && is_this_stage(*e.status)) {
          trace.flush(kScriptStdout);
          return ExitStatus{.code = *e.status->exit_code, .signal = 0};
        }
        continue;
      }
      trace.write(kScriptStdout, e.text);
    }
    if (stop.stop_requested()) {
      trace.flush(kScriptStdout);
      stopped_ = true;
      cancel_stage(container, path);
      return fail(ErrorKind::kCanceled, "build aborted");
    }
    if (std::chrono::steady_clock::now() >= next_check) {
      if (Result<> ok = check_pod(); !ok) {
        trace.flush(kScriptStdout);
        return fail(ok.error());
      }
      next_check = std::chrono::steady_clock::now() + poll;
    }
  }
}

Result<> KubernetesExecutor::check_pod() {
  Result<json> pod = api_->get(ns_, "pods", pod_name_);
  if (!pod) {
    if (pod.error().kind == ErrorKind::kNotFound) {
      return fail(ErrorKind::kUnavailable, "pod " + ns_ + "/" + pod_name_ + " was deleted");
    }
    // A request that failed after its retries: the next poll asks again (checkPodStatus).
    log_warning("getting job pod status", {{"pod", ns_ + "/" + pod_name_},
                                           {"error", pod.error().message}});
    return {};
  }
  const json& status = pod->contains("status") ? (*pod)["status"] : json::object();
  std::string phase = status.value("phase", "");
  if (phase != "Running") {
    return fail(ErrorKind::kUnavailable, "pod \"" + ns_ + "/" + pod_name_ + "\" status is \"" +
                                             phase + "\"");
  }
  if (status.contains("containerStatuses")) {
    for (const json& cs : status["containerStatuses"]) {
      std::string name = cs.value("name", "");
      if (name != "build" && name != "helper") continue;
      if (!cs.contains("state") || !cs["state"].contains("terminated")) continue;
      const json& t = cs["state"]["terminated"];
      return fail(ErrorKind::kUnavailable,
                  "Error in container " + name + ": exit code: " +
                      std::to_string(t.value("exitCode", 0)) + ", reason: '" +
                      t.value("reason", "") + "'");
    }
  }
  return {};
}

void KubernetesExecutor::cancel_stage(const std::string& container, const std::string& path) {
  // stageCancellationScript: SIGTERM to the children of the process running this stage's
  // script (found in /proc by its command line); the script's TERM trap then exits.
  std::string kill_script =
      "for prc in /proc/[0-9]*; do\n"
      "  cmd=$(tr '\\000' ' ' < \"$prc/cmdline\" 2>/dev/null) || continue\n"
      "  case \"$cmd\" in\n"
      "    *\" " + path + " \") p=${prc#/proc/}; kill -TERM $(cat /proc/$p/task/$p/children 2>/dev/null) 2>/dev/null;;\n"
      "  esac\n"
      "done\n"
      "exit 0\n";
  // Bounded: a pod that does not answer must not hold the job.
  std::stop_source give_up;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::jthread t([&] {
    (void)api_->exec(ns_, pod_name_, container, {"sh", "-c", detect_shell_script()}, kill_script,
                     [](int, std::string_view) {}, give_up.get_token());
    std::lock_guard lock(m);
    done = true;
    cv.notify_all();
  });
  std::unique_lock lock(m);
  if (!cv.wait_for(lock, 10s, [&] { return done; })) give_up.request_stop();
}

Result<ExitStatus> KubernetesExecutor::run_exec(const StageScript& script, TraceSink& trace,
                                                std::stop_token stop) {
  const std::string container = script.in_build_container ? "build" : "helper";
  Result<int> code = api_->exec(
      ns_, pod_name_, container, {"sh", "-c", detect_shell_script()}, script.script,
      [&trace](int channel, std::string_view bytes) {
        trace.write(channel == 2 ? kScriptStderr : kScriptStdout, bytes);
      },
      stop);
  trace.flush(kScriptStdout);
  trace.flush(kScriptStderr);
  if (!code) {
    if (code.error().kind == ErrorKind::kCanceled || stop.stop_requested()) {
      // Legacy exec strategy (§1.6): the exec stream is dropped. The pod stays, because a
      // graceful cancel still runs after_script in it; cleanup then deletes it at once.
      stopped_ = true;
      return fail(ErrorKind::kCanceled, "build aborted");
    }
    return fail(code.error().kind, "exec in container \"" + container + "\": " +
                                       code.error().message);
  }
  return ExitStatus{.code = *code, .signal = 0};
}

void KubernetesExecutor::cleanup() noexcept {
  try {
    if (logs_) {
      logs_->stop();
      logs_.reset();
    }
    if (!pod_name_.empty()) {
      // A canceled or timed-out job's pod gets no grace period: its stage may still run.
      std::optional<int> grace = stopped_ ? std::optional<int>(0)
                                          : options_.config.cleanup_grace_period_seconds;
      Result<> r = api_->remove(ns_, "pods", pod_name_, grace);
      if (!r) {
        log_warning("deleting the job pod failed",
                    {{"pod", ns_ + "/" + pod_name_}, {"error", r.error().message}});
      }
      pod_name_.clear();
    }
    // An owned secret goes with its pod; delete it only if it never got its owner.
    if (!secret_name_.empty() && !secret_owned_) {
      Result<> r = api_->remove(ns_, "secrets", secret_name_, std::nullopt);
      if (!r) {
        log_warning("deleting the job secret failed",
                    {{"secret", ns_ + "/" + secret_name_}, {"error", r.error().message}});
      }
    }
    secret_name_.clear();
    secret_owned_ = false;
    stopped_ = false;
  } catch (const std::exception& e) {
    log_error("kubernetes cleanup failed", {{"error", e.what()}});
  }
}

bool use_legacy_exec_strategy(const Variables& variables) {
  // The first entry is the resolved flag (job_variables); later ones are raw sources.
  for (const Variable& v : variables) {
    if (v.key == "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY") {
      return parse_go_bool(v.value).value_or(false);
    }
  }
  return false;
}

int delete_leftovers(KubeApi& api, const std::string& ns, const std::string& short_token) try {
  std::string selector =
      std::string(kManagerIdLabel) + "=" + sanitize_label(short_token) + "," + kJobPodLabel;
  int deleted = 0;
  for (const char* resource : {"pods", "secrets", "services"}) {
    Result<std::vector<json>> items = api.list(ns, resource, selector);
    if (!items) {
      log_warning("listing leftovers failed",
                  {{"namespace", ns}, {"resource", resource}, {"error", items.error().message}});
      continue;
    }
    for (const json& item : *items) {
      if (!item.contains("metadata")) continue;
      std::string name = item["metadata"].value("name", "");
      if (name.empty()) continue;
      std::optional<int> grace;
      if (std::string(resource) == "pods") grace = 0;
      Result<> r = api.remove(ns, resource, name, grace);
      if (r) {
        ++deleted;
        log_info("deleted a leftover of an earlier run",
                 {{"namespace", ns}, {"resource", resource}, {"name", name}});
      }
    }
  }
  return deleted;
} catch (const std::exception& e) {
  log_warning("deleting leftovers failed", {{"namespace", ns}, {"error", e.what()}});
  return 0;
}

}  // namespace glr::kube

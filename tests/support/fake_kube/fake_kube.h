// A fake Kubernetes API server on 127.0.0.1 (HTTPS, self-signed) for tests of the Kubernetes
// executor and client (executors §7.4): core v1 objects with real Status bodies, watches, and
// pods whose containers run as local processes, so logs, exec and attach behave like a cluster.
//
// Containers run on the host. Each pod gets a directory <state_dir>/pods/<ns>/<name>/; emptyDir,
// secret and configMap volumes are directories in it and hostPath volumes are the host path. The
// container's mountPaths are mapped by rewriting: every occurrence of a mountPath (as a whole path
// prefix) in command, args, env values and workingDir, and in exec/attach commands and stdin, is
// replaced by the volume's directory. A container without a mapped workingDir starts in
// <pod dir>/rootfs/<container>. FAKE_KUBE_POD_DIR names the pod directory in every process.
// restartPolicy is always treated as Never; image and resources are recorded, not enforced.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace glr {

// One injected answer: requests whose method matches (empty: any) and whose path (no query)
// contains `path_contains` get `status` with a Status body instead of being served, `count`
// times (< 0: forever). status 0 closes the connection without an answer.
struct FakeKubeFault {
  std::string method{};
  std::string path_contains{};
  int count = 1;
  int status = 500;
  std::optional<int> retry_after_seconds{};
  std::string message{};  // default: "fake fault <status>"
};

// Thread-safe. Serves on its own threads from construction to destruction; the destructor kills
// every container process and joins all threads.
class FakeKube {
 public:
  struct Options {
    uint16_t port = 0;                  // 0: any free port
    std::filesystem::path state_dir{};  // required: certificate, kubeconfig and pod directories
    std::string token{};                // non-empty: every API request needs "Bearer <token>"
    bool control_api = false;           // serve /__control/ (the fake-kube executable)
    // Prepended to PATH in every container and exec, so tests can provide stand-ins for the
    // programs images would have (a helper binary, say).
    std::filesystem::path extra_path{};
  };

  explicit FakeKube(Options options);
  FakeKube(const FakeKube&) = delete;
  FakeKube& operator=(const FakeKube&) = delete;
  ~FakeKube();

  // 0 / empty if the server could not start (the constructor never throws on that).
  uint16_t port() const;
  std::string url() const;  // "https://127.0.0.1:PORT"
  std::string ca_pem() const;
  std::filesystem::path ca_file() const;          // <state_dir>/ca.crt
  std::filesystem::path kubeconfig_file() const;  // <state_dir>/kubeconfig

  void inject(FakeKubeFault fault);
  void clear_faults();
  // The next `connections` watch streams are closed (without the terminating chunk) after they
  // sent `events` events.
  void drop_watches_after(int events, int connections);
  // Containers of pods created from now on start only after `delay` (the pod stays Pending).
  void set_pod_start_delay(std::chrono::milliseconds delay);
  // Pods created from now on with a container using `image` (exact match) never start: its
  // status goes waiting ErrImagePull, then ImagePullBackOff, and the pod stays Pending.
  void fail_image_pull(const std::string& image);
  // Forgets the event history: watches from an older resourceVersion get a 410 Expired ERROR.
  void compact();
  // The stored object as JSON text, "" when absent. ns "" for namespaces.
  std::string object_json(const std::string& ns, const std::string& resource,
                          const std::string& name) const;
  // Requests (not /__control/) whose "METHOD path" contains `needle`.
  int request_count(const std::string& needle) const;
  // TCP connections accepted so far.
  int connection_count() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace glr

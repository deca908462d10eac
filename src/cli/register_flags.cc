// Executor-section flags of `register` (api spec §1.7); flag and env names from the
// official runner's common/config.go and cache/cacheconfig (the scalar and list keys).
#include "cli/register_flags.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>

#include "util/strings.h"

namespace glr {
namespace {

enum class ValueKind { kString, kBool, kInt, kList };

struct SectionFlag {
  const char* flag;     // without "--"
  const char* env;
  const char* section;  // [runners.<section>]
  const char* table;    // "" or the sub-table: [runners.cache.<table>]
  const char* key;
  ValueKind kind;
};

// clang-format off
constexpr SectionFlag kFlags[] = {
    // [runners.docker]
    {"docker-hostname", "DOCKER_HOSTNAME", "docker", "", "hostname", ValueKind::kString},
    {"docker-image", "DOCKER_IMAGE", "docker", "", "image", ValueKind::kString},
    {"docker-runtime", "DOCKER_RUNTIME", "docker", "", "runtime", ValueKind::kString},
    {"docker-memory", "DOCKER_MEMORY", "docker", "", "memory", ValueKind::kString},
    {"docker-memory-swap", "DOCKER_MEMORY_SWAP", "docker", "", "memory_swap", ValueKind::kString},
    {"docker-memory-reservation", "DOCKER_MEMORY_RESERVATION", "docker", "", "memory_reservation", ValueKind::kString},
    {"docker-cgroup-parent", "DOCKER_CGROUP_PARENT", "docker", "", "cgroup_parent", ValueKind::kString},
    {"docker-cpuset-cpus", "DOCKER_CPUSET_CPUS", "docker", "", "cpuset_cpus", ValueKind::kString},
    {"docker-cpuset-mems", "DOCKER_CPUSET_MEMS", "docker", "", "cpuset_mems", ValueKind::kString},
    {"docker-cpus", "DOCKER_CPUS", "docker", "", "cpus", ValueKind::kString},
    {"docker-cpu-shares", "DOCKER_CPU_SHARES", "docker", "", "cpu_shares", ValueKind::kInt},
    {"docker-dns", "DOCKER_DNS", "docker", "", "dns", ValueKind::kList},
    {"docker-dns-search", "DOCKER_DNS_SEARCH", "docker", "", "dns_search", ValueKind::kList},
    {"docker-privileged", "DOCKER_PRIVILEGED", "docker", "", "privileged", ValueKind::kBool},
    {"docker-services_privileged", "DOCKER_SERVICES_PRIVILEGED", "docker", "", "services_privileged", ValueKind::kBool},
    {"docker-disable-entrypoint-overwrite", "DOCKER_DISABLE_ENTRYPOINT_OVERWRITE", "docker", "", "disable_entrypoint_overwrite", ValueKind::kBool},
    {"docker-user", "DOCKER_USER", "docker", "", "user", ValueKind::kString},
    {"docker-allowed_users", "DOCKER_ALLOWED_USERS", "docker", "", "allowed_users", ValueKind::kList},
    {"docker-group-add", "DOCKER_GROUP_ADD", "docker", "", "group_add", ValueKind::kList},
    {"docker-userns", "DOCKER_USERNS_MODE", "docker", "", "userns_mode", ValueKind::kString},
    {"docker-cap-add", "DOCKER_CAP_ADD", "docker", "", "cap_add", ValueKind::kList},
    {"docker-cap-drop", "DOCKER_CAP_DROP", "docker", "", "cap_drop", ValueKind::kList},
    {"docker-oom-kill-disable", "DOCKER_OOM_KILL_DISABLE", "docker", "", "oom_kill_disable", ValueKind::kBool},
    {"docker-oom-score-adjust", "DOCKER_OOM_SCORE_ADJUST", "docker", "", "oom_score_adjust", ValueKind::kInt},
    {"docker-security-opt", "DOCKER_SECURITY_OPT", "docker", "", "security_opt", ValueKind::kList},
    {"docker-services-security-opt", "DOCKER_SERVICES_SECURITY_OPT", "docker", "", "services_security_opt", ValueKind::kList},
    {"docker-devices", "DOCKER_DEVICES", "docker", "", "devices", ValueKind::kList},
    {"docker-device-cgroup-rules", "DOCKER_DEVICE_CGROUP_RULES", "docker", "", "device_cgroup_rules", ValueKind::kList},
    {"docker-gpus", "DOCKER_GPUS", "docker", "", "gpus", ValueKind::kString},
    {"docker-disable-cache", "DOCKER_DISABLE_CACHE", "docker", "", "disable_cache", ValueKind::kBool},
    {"docker-volumes", "DOCKER_VOLUMES", "docker", "", "volumes", ValueKind::kList},
    {"docker-volume-keep", "DOCKER_VOLUME_KEEP", "docker", "", "volume_keep", ValueKind::kBool},
    {"docker-volume-driver", "DOCKER_VOLUME_DRIVER", "docker", "", "volume_driver", ValueKind::kString},
    {"docker-cache-dir", "DOCKER_CACHE_DIR", "docker", "", "cache_dir", ValueKind::kString},
    {"docker-extra-hosts", "DOCKER_EXTRA_HOSTS", "docker", "", "extra_hosts", ValueKind::kList},
    {"docker-volumes-from", "DOCKER_VOLUMES_FROM", "docker", "", "volumes_from", ValueKind::kList},
    {"docker-network-mode", "DOCKER_NETWORK_MODE", "docker", "", "network_mode", ValueKind::kString},
    {"docker-pid-mode", "DOCKER_PID_MODE", "docker", "", "pid_mode", ValueKind::kString},
    {"docker-ipcmode", "DOCKER_IPC_MODE", "docker", "", "ipcmode", ValueKind::kString},
    {"docker-mac-address", "DOCKER_MAC_ADDRESS", "docker", "", "mac_address", ValueKind::kString},
    {"docker-links", "DOCKER_LINKS", "docker", "", "links", ValueKind::kList},
    {"docker-services-limit", "DOCKER_SERVICES_LIMIT", "docker", "", "services_limit", ValueKind::kInt},
    {"docker-service-memory", "DOCKER_SERVICE_MEMORY", "docker", "", "service_memory", ValueKind::kString},
    {"docker-service-memory-swap", "DOCKER_SERVICE_MEMORY_SWAP", "docker", "", "service_memory_swap", ValueKind::kString},
    {"docker-service-memory-reservation", "DOCKER_SERVICE_MEMORY_RESERVATION", "docker", "", "service_memory_reservation", ValueKind::kString},
    {"docker-service-cgroup-parent", "DOCKER_SERVICE_CGROUP_PARENT", "docker", "", "service_cgroup_parent", ValueKind::kString},
    {"docker-service-slot-cgroup-template", "DOCKER_SERVICE_SLOT_CGROUP_TEMPLATE", "docker", "", "service_slot_cgroup_template", ValueKind::kString},
    {"docker-service-cpuset-cpus", "DOCKER_SERVICE_CPUSET_CPUS", "docker", "", "service_cpuset_cpus", ValueKind::kString},
    {"docker-service-cpus", "DOCKER_SERVICE_CPUS", "docker", "", "service_cpus", ValueKind::kString},
    {"docker-service-cpu-shares", "DOCKER_SERVICE_CPU_SHARES", "docker", "", "service_cpu_shares", ValueKind::kInt},
    {"docker-service_gpus", "DOCKER_SERVICE_GPUS", "docker", "", "service_gpus", ValueKind::kString},
    {"docker-wait-for-services-timeout", "DOCKER_WAIT_FOR_SERVICES_TIMEOUT", "docker", "", "wait_for_services_timeout", ValueKind::kInt},
    {"docker-allowed-images", "DOCKER_ALLOWED_IMAGES", "docker", "", "allowed_images", ValueKind::kList},
    {"docker-allowed-privileged-images", "DOCKER_ALLOWED_PRIVILEGED_IMAGES", "docker", "", "allowed_privileged_images", ValueKind::kList},
    {"docker-allowed-privileged-services", "DOCKER_ALLOWED_PRIVILEGED_SERVICES", "docker", "", "allowed_privileged_services", ValueKind::kList},
    {"docker-allowed-pull-policies", "DOCKER_ALLOWED_PULL_POLICIES", "docker", "", "allowed_pull_policies", ValueKind::kList},
    {"docker-allowed-services", "DOCKER_ALLOWED_SERVICES", "docker", "", "allowed_services", ValueKind::kList},
    {"docker-pull-policy", "DOCKER_PULL_POLICY", "docker", "", "pull_policy", ValueKind::kList},
    {"docker-isolation", "DOCKER_ISOLATION", "docker", "", "isolation", ValueKind::kString},
    {"docker-shm-size", "DOCKER_SHM_SIZE", "docker", "", "shm_size", ValueKind::kInt},
    {"docker-helper-image", "DOCKER_HELPER_IMAGE", "docker", "", "helper_image", ValueKind::kString},
    {"docker-helper-image-flavor", "DOCKER_HELPER_IMAGE_FLAVOR", "docker", "", "helper_image_flavor", ValueKind::kString},
    // [runners.kubernetes]
    {"kubernetes-host", "KUBERNETES_HOST", "kubernetes", "", "host", ValueKind::kString},
    {"kubernetes-context", "KUBECTL_CONTEXT", "kubernetes", "", "context", ValueKind::kString},
    {"kubernetes-cert-file", "KUBERNETES_CERT_FILE", "kubernetes", "", "cert_file", ValueKind::kString},
    {"kubernetes-key-file", "KUBERNETES_KEY_FILE", "kubernetes", "", "key_file", ValueKind::kString},
    {"kubernetes-ca-file", "KUBERNETES_CA_FILE", "kubernetes", "", "ca_file", ValueKind::kString},
    {"kubernetes-bearer_token_overwrite_allowed", "KUBERNETES_BEARER_TOKEN_OVERWRITE_ALLOWED", "kubernetes", "", "bearer_token_overwrite_allowed", ValueKind::kBool},
    {"kubernetes-bearer_token", "KUBERNETES_BEARER_TOKEN", "kubernetes", "", "bearer_token", ValueKind::kString},
    {"kubernetes-image", "KUBERNETES_IMAGE", "kubernetes", "", "image", ValueKind::kString},
    {"kubernetes-namespace", "KUBERNETES_NAMESPACE", "kubernetes", "", "namespace", ValueKind::kString},
    {"kubernetes-namespace_overwrite_allowed", "KUBERNETES_NAMESPACE_OVERWRITE_ALLOWED", "kubernetes", "", "namespace_overwrite_allowed", ValueKind::kString},
    {"kubernetes-namespace_per_job", "KUBERNETES_NAMESPACE_PER_JOB", "kubernetes", "", "namespace_per_job", ValueKind::kBool},
    {"kubernetes-privileged", "KUBERNETES_PRIVILEGED", "kubernetes", "", "privileged", ValueKind::kBool},
    {"kubernetes-runtime-class-name", "KUBERNETES_RUNTIME_CLASS_NAME", "kubernetes", "", "runtime_class_name", ValueKind::kString},
    {"kubernetes-allow-privilege-escalation", "KUBERNETES_ALLOW_PRIVILEGE_ESCALATION", "kubernetes", "", "allow_privilege_escalation", ValueKind::kBool},
    {"kubernetes-cpu-limit", "KUBERNETES_CPU_LIMIT", "kubernetes", "", "cpu_limit", ValueKind::kString},
    {"kubernetes-cpu-limit-overwrite-max-allowed", "KUBERNETES_CPU_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "cpu_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-cpu-request", "KUBERNETES_CPU_REQUEST", "kubernetes", "", "cpu_request", ValueKind::kString},
    {"kubernetes-cpu-request-overwrite-max-allowed", "KUBERNETES_CPU_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "cpu_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-memory-limit", "KUBERNETES_MEMORY_LIMIT", "kubernetes", "", "memory_limit", ValueKind::kString},
    {"kubernetes-memory-limit-overwrite-max-allowed", "KUBERNETES_MEMORY_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "memory_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-memory-request", "KUBERNETES_MEMORY_REQUEST", "kubernetes", "", "memory_request", ValueKind::kString},
    {"kubernetes-memory-request-overwrite-max-allowed", "KUBERNETES_MEMORY_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "memory_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-ephemeral-storage-limit", "KUBERNETES_EPHEMERAL_STORAGE_LIMIT", "kubernetes", "", "ephemeral_storage_limit", ValueKind::kString},
    {"kubernetes-ephemeral-storage-limit-overwrite-max-allowed", "KUBERNETES_EPHEMERAL_STORAGE_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "ephemeral_storage_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-ephemeral-storage-request", "KUBERNETES_EPHEMERAL_STORAGE_REQUEST", "kubernetes", "", "ephemeral_storage_request", ValueKind::kString},
    {"kubernetes-ephemeral-storage-request-overwrite-max-allowed", "KUBERNETES_EPHEMERAL_STORAGE_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "ephemeral_storage_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-service-cpu-limit", "KUBERNETES_SERVICE_CPU_LIMIT", "kubernetes", "", "service_cpu_limit", ValueKind::kString},
    {"kubernetes-service-cpu-limit-overwrite-max-allowed", "KUBERNETES_SERVICE_CPU_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "service_cpu_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-service-cpu-request", "KUBERNETES_SERVICE_CPU_REQUEST", "kubernetes", "", "service_cpu_request", ValueKind::kString},
    {"kubernetes-service-cpu-request-overwrite-max-allowed", "KUBERNETES_SERVICE_CPU_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "service_cpu_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-service-memory-limit", "KUBERNETES_SERVICE_MEMORY_LIMIT", "kubernetes", "", "service_memory_limit", ValueKind::kString},
    {"kubernetes-service-memory-limit-overwrite-max-allowed", "KUBERNETES_SERVICE_MEMORY_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "service_memory_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-service-memory-request", "KUBERNETES_SERVICE_MEMORY_REQUEST", "kubernetes", "", "service_memory_request", ValueKind::kString},
    {"kubernetes-service-memory-request-overwrite-max-allowed", "KUBERNETES_SERVICE_MEMORY_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "service_memory_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-service-ephemeral_storage-limit", "KUBERNETES_SERVICE_EPHEMERAL_STORAGE_LIMIT", "kubernetes", "", "service_ephemeral_storage_limit", ValueKind::kString},
    {"kubernetes-service-ephemeral_storage-limit-overwrite-max-allowed", "KUBERNETES_SERVICE_EPHEMERAL_STORAGE_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "service_ephemeral_storage_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-service-ephemeral_storage-request", "KUBERNETES_SERVICE_EPHEMERAL_STORAGE_REQUEST", "kubernetes", "", "service_ephemeral_storage_request", ValueKind::kString},
    {"kubernetes-service-ephemeral_storage-request-overwrite-max-allowed", "KUBERNETES_SERVICE_EPHEMERAL_STORAGE_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "service_ephemeral_storage_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-helper-cpu-limit", "KUBERNETES_HELPER_CPU_LIMIT", "kubernetes", "", "helper_cpu_limit", ValueKind::kString},
    {"kubernetes-helper-cpu-limit-overwrite-max-allowed", "KUBERNETES_HELPER_CPU_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "helper_cpu_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-helper-cpu-request", "KUBERNETES_HELPER_CPU_REQUEST", "kubernetes", "", "helper_cpu_request", ValueKind::kString},
    {"kubernetes-helper-cpu-request-overwrite-max-allowed", "KUBERNETES_HELPER_CPU_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "helper_cpu_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-helper-memory-limit", "KUBERNETES_HELPER_MEMORY_LIMIT", "kubernetes", "", "helper_memory_limit", ValueKind::kString},
    {"kubernetes-helper-memory-limit-overwrite-max-allowed", "KUBERNETES_HELPER_MEMORY_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "helper_memory_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-helper-memory-request", "KUBERNETES_HELPER_MEMORY_REQUEST", "kubernetes", "", "helper_memory_request", ValueKind::kString},
    {"kubernetes-helper-memory-request-overwrite-max-allowed", "KUBERNETES_HELPER_MEMORY_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "helper_memory_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-helper-ephemeral_storage-limit", "KUBERNETES_HELPER_EPHEMERAL_STORAGE_LIMIT", "kubernetes", "", "helper_ephemeral_storage_limit", ValueKind::kString},
    {"kubernetes-helper-ephemeral_storage-limit-overwrite-max-allowed", "KUBERNETES_HELPER_EPHEMERAL_STORAGE_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "helper_ephemeral_storage_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-helper-ephemeral_storage-request", "KUBERNETES_HELPER_EPHEMERAL_STORAGE_REQUEST", "kubernetes", "", "helper_ephemeral_storage_request", ValueKind::kString},
    {"kubernetes-helper-ephemeral_storage-request-overwrite-max-allowed", "KUBERNETES_HELPER_EPHEMERAL_STORAGE_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "helper_ephemeral_storage_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-pod-cpu-limit", "KUBERNETES_POD_CPU_LIMIT", "kubernetes", "", "pod_cpu_limit", ValueKind::kString},
    {"kubernetes-pod-cpu-limit-overwrite-max-allowed", "KUBERNETES_POD_CPU_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "pod_cpu_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-pod-cpu-request", "KUBERNETES_POD_CPU_REQUEST", "kubernetes", "", "pod_cpu_request", ValueKind::kString},
    {"kubernetes-pod-cpu-request-overwrite-max-allowed", "KUBERNETES_POD_CPU_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "pod_cpu_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-pod-memory-limit", "KUBERNETES_POD_MEMORY_LIMIT", "kubernetes", "", "pod_memory_limit", ValueKind::kString},
    {"kubernetes-pod-memory-limit-overwrite-max-allowed", "KUBERNETES_POD_MEMORY_LIMIT_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "pod_memory_limit_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-pod-memory-request", "KUBERNETES_POD_MEMORY_REQUEST", "kubernetes", "", "pod_memory_request", ValueKind::kString},
    {"kubernetes-pod-memory-request-overwrite-max-allowed", "KUBERNETES_POD_MEMORY_REQUEST_OVERWRITE_MAX_ALLOWED", "kubernetes", "", "pod_memory_request_overwrite_max_allowed", ValueKind::kString},
    {"kubernetes-allowed-images", "KUBERNETES_ALLOWED_IMAGES", "kubernetes", "", "allowed_images", ValueKind::kList},
    {"kubernetes-allowed-pull-policies", "KUBERNETES_ALLOWED_PULL_POLICIES", "kubernetes", "", "allowed_pull_policies", ValueKind::kList},
    {"kubernetes-allowed-services", "KUBERNETES_ALLOWED_SERVICES", "kubernetes", "", "allowed_services", ValueKind::kList},
    {"kubernetes-allowed-users", "KUBERNETES_ALLOWED_USERS", "kubernetes", "", "allowed_users", ValueKind::kList},
    {"kubernetes-allowed-groups", "KUBERNETES_ALLOWED_GROUPS", "kubernetes", "", "allowed_groups", ValueKind::kList},
    {"kubernetes-pull-policy", "KUBERNETES_PULL_POLICY", "kubernetes", "", "pull_policy", ValueKind::kList},
    {"kubernetes-node_selector_overwrite_allowed", "KUBERNETES_NODE_SELECTOR_OVERWRITE_ALLOWED", "kubernetes", "", "node_selector_overwrite_allowed", ValueKind::kString},
    {"kubernetes-node_tolerations_overwrite_allowed", "KUBERNETES_NODE_TOLERATIONS_OVERWRITE_ALLOWED", "kubernetes", "", "node_tolerations_overwrite_allowed", ValueKind::kString},
    {"kubernetes-image-pull-secrets", "KUBERNETES_IMAGE_PULL_SECRETS", "kubernetes", "", "image_pull_secrets", ValueKind::kList},
    {"kubernetes-use-service-account-image-pull-secrets", "KUBERNETES_USE_SERVICE_ACCOUNT_IMAGE_PULL_SECRETS", "kubernetes", "", "use_service_account_image_pull_secrets", ValueKind::kBool},
    {"kubernetes-helper-image", "KUBERNETES_HELPER_IMAGE", "kubernetes", "", "helper_image", ValueKind::kString},
    {"kubernetes-helper-image-flavor", "KUBERNETES_HELPER_IMAGE_FLAVOR", "kubernetes", "", "helper_image_flavor", ValueKind::kString},
    {"kubernetes-helper-image-autoset-arch-and-os", "KUBERNETES_HELPER_IMAGE_AUTOSET_ARCH_AND_OS", "kubernetes", "", "helper_image_autoset_arch_and_os", ValueKind::kBool},
    {"kubernetes-pod_termination_grace_period_seconds", "KUBERNETES_POD_TERMINATION_GRACE_PERIOD_SECONDS", "kubernetes", "", "pod_termination_grace_period_seconds", ValueKind::kInt},
    {"kubernetes-cleanup_grace_period_seconds", "KUBERNETES_CLEANUP_GRACE_PERIOD_SECONDS", "kubernetes", "", "cleanup_grace_period_seconds", ValueKind::kInt},
    {"kubernetes-poll-interval", "KUBERNETES_POLL_INTERVAL", "kubernetes", "", "poll_interval", ValueKind::kInt},
    {"kubernetes-poll-timeout", "KUBERNETES_POLL_TIMEOUT", "kubernetes", "", "poll_timeout", ValueKind::kInt},
    {"kubernetes-resource-availability-check-max-attempts", "KUBERNETES_RESOURCE_AVAILABILITY_CHECK_MAX_ATTEMPTS", "kubernetes", "", "resource_availability_check_max_attempts", ValueKind::kInt},
    {"kubernetes-pod_labels_overwrite_allowed", "KUBERNETES_POD_LABELS_OVERWRITE_ALLOWED", "kubernetes", "", "pod_labels_overwrite_allowed", ValueKind::kString},
    {"kubernetes-scheduler-name", "KUBERNETES_SCHEDULER_NAME", "kubernetes", "", "scheduler_name", ValueKind::kString},
    {"kubernetes-service-account", "KUBERNETES_SERVICE_ACCOUNT", "kubernetes", "", "service_account", ValueKind::kString},
    {"kubernetes-service_account_overwrite_allowed", "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE_ALLOWED", "kubernetes", "", "service_account_overwrite_allowed", ValueKind::kString},
    {"kubernetes-automount-service-account-token", "KUBERNETES_AUTOMOUNT_SERVICE_ACCOUNT_TOKEN", "kubernetes", "", "automount_service_account_token", ValueKind::kBool},
    {"kubernetes-pod_annotations_overwrite_allowed", "KUBERNETES_POD_ANNOTATIONS_OVERWRITE_ALLOWED", "kubernetes", "", "pod_annotations_overwrite_allowed", ValueKind::kString},
    {"kubernetes-cap-add", "KUBERNETES_CAP_ADD", "kubernetes", "", "cap_add", ValueKind::kList},
    {"kubernetes-cap-drop", "KUBERNETES_CAP_DROP", "kubernetes", "", "cap_drop", ValueKind::kList},
    {"kubernetes-suspend-pvc-size", "KUBERNETES_SUSPEND_PVC_SIZE", "kubernetes", "", "suspend_pvc_size", ValueKind::kString},
    {"kubernetes-suspend-pvc-storage-class", "KUBERNETES_SUSPEND_PVC_STORAGE_CLASS", "kubernetes", "", "suspend_pvc_storage_class", ValueKind::kString},
    {"kubernetes-dns-policy", "KUBERNETES_DNS_POLICY", "kubernetes", "", "dns_policy", ValueKind::kString},
    {"kubernetes-priority_class_name", "KUBERNETES_PRIORITY_CLASS_NAME", "kubernetes", "", "priority_class_name", ValueKind::kString},
    {"kubernetes-logs-base-dir", "KUBERNETES_LOGS_BASE_DIR", "kubernetes", "", "logs_base_dir", ValueKind::kString},
    {"kubernetes-scripts-base-dir", "KUBERNETES_SCRIPTS_BASE_DIR", "kubernetes", "", "scripts_base_dir", ValueKind::kString},
    {"kubernetes-print-pod-warning-events", "KUBERNETES_PRINT_POD_WARNING_EVENTS", "kubernetes", "", "print_pod_warning_events", ValueKind::kBool},
    {"kubernetes-pod-disruption-budget", "KUBERNETES_POD_DISRUPTION_BUDGET", "kubernetes", "", "pod_disruption_budget", ValueKind::kBool},
    // [runners.cache]
    {"cache-type", "CACHE_TYPE", "cache", "", "Type", ValueKind::kString},
    {"cache-path", "CACHE_PATH", "cache", "", "Path", ValueKind::kString},
    {"cache-shared", "CACHE_SHARED", "cache", "", "Shared", ValueKind::kBool},
    {"cache-max_uploaded_archive_size", "CACHE_MAXIMUM_UPLOADED_ARCHIVE_SIZE", "cache", "", "MaxUploadedArchiveSize", ValueKind::kInt},
    // [runners.cache.s3]
    {"cache-s3-server-address", "CACHE_S3_SERVER_ADDRESS", "cache", "s3", "ServerAddress", ValueKind::kString},
    {"cache-s3-access-key", "CACHE_S3_ACCESS_KEY", "cache", "s3", "AccessKey", ValueKind::kString},
    {"cache-s3-secret-key", "CACHE_S3_SECRET_KEY", "cache", "s3", "SecretKey", ValueKind::kString},
    {"cache-s3-session-token", "CACHE_S3_SESSION_TOKEN", "cache", "s3", "SessionToken", ValueKind::kString},
    {"cache-s3-bucket-name", "CACHE_S3_BUCKET_NAME", "cache", "s3", "BucketName", ValueKind::kString},
    {"cache-s3-bucket-location", "CACHE_S3_BUCKET_LOCATION", "cache", "s3", "BucketLocation", ValueKind::kString},
    {"cache-s3-insecure", "CACHE_S3_INSECURE", "cache", "s3", "Insecure", ValueKind::kBool},
    {"cache-s3-authentication_type", "CACHE_S3_AUTHENTICATION_TYPE", "cache", "s3", "AuthenticationType", ValueKind::kString},
    {"cache-s3-server-side-encryption", "CACHE_S3_SERVER_SIDE_ENCRYPTION", "cache", "s3", "ServerSideEncryption", ValueKind::kString},
    {"cache-s3-server-side-encryption-key-id", "CACHE_S3_SERVER_SIDE_ENCRYPTION_KEY_ID", "cache", "s3", "ServerSideEncryptionKeyID", ValueKind::kString},
    {"cache-s3-dual-stack", "CACHE_S3_DUAL_STACK", "cache", "s3", "DualStack", ValueKind::kBool},
    {"cache-s3-path-style", "CACHE_S3_PATH_STYLE", "cache", "s3", "PathStyle", ValueKind::kBool},
    {"cache-s3-accelerate", "CACHE_S3_ACCELERATE", "cache", "s3", "Accelerate", ValueKind::kBool},
    {"cache-s3-role-arn", "CACHE_S3_ROLE_ARN", "cache", "s3", "RoleARN", ValueKind::kString},
    {"cache-s3-upload-role-arn", "CACHE_S3_UPLOAD_ROLE_ARN", "cache", "s3", "UploadRoleARN", ValueKind::kString},
    {"cache-s3-assume-role-max-concurrency", "CACHE_S3_ASSUME_ROLE_MAX_CONCURRENCY", "cache", "s3", "AssumeRoleMaxConcurrency", ValueKind::kInt},
    {"cache-s3-disable-assume-role-credentials-caching", "CACHE_S3_DISABLE_ASSUME_ROLE_CREDENTIALS_CACHING", "cache", "s3", "DisableAssumeRoleCredentialsCaching", ValueKind::kBool},
    // [runners.cache.gcs]
    {"cache-gcs-access-id", "CACHE_GCS_ACCESS_ID", "cache", "gcs", "AccessID", ValueKind::kString},
    {"cache-gcs-private-key", "CACHE_GCS_PRIVATE_KEY", "cache", "gcs", "PrivateKey", ValueKind::kString},
    // [runners.cache.gcs]
    {"cache-gcs-credentials-file", "GOOGLE_APPLICATION_CREDENTIALS", "cache", "gcs", "CredentialsFile", ValueKind::kString},
    {"cache-gcs-bucket-name", "CACHE_GCS_BUCKET_NAME", "cache", "gcs", "BucketName", ValueKind::kString},
    {"cache-gcs-universe-domain", "CACHE_GCS_UNIVERSE_DOMAIN", "cache", "gcs", "UniverseDomain", ValueKind::kString},
    // [runners.cache.azure]
    {"cache-azure-account-name", "CACHE_AZURE_ACCOUNT_NAME", "cache", "azure", "AccountName", ValueKind::kString},
    {"cache-azure-account-key", "CACHE_AZURE_ACCOUNT_KEY", "cache", "azure", "AccountKey", ValueKind::kString},
    // [runners.cache.azure]
    {"cache-azure-container-name", "CACHE_AZURE_CONTAINER_NAME", "cache", "azure", "ContainerName", ValueKind::kString},
    {"cache-azure-storage-domain", "CACHE_AZURE_STORAGE_DOMAIN", "cache", "azure", "StorageDomain", ValueKind::kString},
};
// clang-format on

constexpr size_t kCount = sizeof(kFlags) / sizeof(kFlags[0]);

Result<std::string> literal(const SectionFlag& f, const std::string& value) {
  switch (f.kind) {
    case ValueKind::kString:
      return toml_quote(value);
    case ValueKind::kBool: {
      std::string v = to_lower(trim(value));
      if (v == "true" || v == "1" || v == "t") return std::string("true");
      if (v == "false" || v == "0" || v == "f") return std::string("false");
      return fail(ErrorKind::kInvalidInput,
                  std::string("--") + f.flag + ": expected true or false, got \"" + value + "\"");
    }
    case ValueKind::kInt: {
      std::optional<long long> n = parse_int(trim(value));
      if (!n) {
        return fail(ErrorKind::kInvalidInput,
                    std::string("--") + f.flag + ": expected an integer, got \"" + value + "\"");
      }
      return std::to_string(*n);
    }
    case ValueKind::kList:
      break;
  }
  return fail(ErrorKind::kInternal, "list value as scalar");
}

}  // namespace

SectionFlags::SectionFlags() : scalars_(kCount), lists_(kCount) {}

size_t SectionFlags::size() { return kCount; }

void SectionFlags::add_to(CLI::App& command) {
  for (size_t i = 0; i < kCount; ++i) {
    const SectionFlag& f = kFlags[i];
    std::string name = std::string("--") + f.flag;
    std::string help = std::string("[runners.") + f.section + (*f.table ? "." : "") + f.table +
                       "] " + f.key;
    CLI::Option* o = nullptr;
    if (f.kind == ValueKind::kList) {
      // Repeat the flag for several values; the env var gives one value (go-flags).
      o = command.add_option(name, lists_[i], help);
    } else if (f.kind == ValueKind::kBool) {
      // `--flag` alone means true; `--flag=false` works too (§1.7).
      o = command.add_flag(name, scalars_[i], help);
    } else {
      o = command.add_option(name, scalars_[i], help);
    }
    o->envname(f.env)->group("Executor and cache settings");
  }
}

bool SectionFlags::set(const std::string& flag, const std::string& value) {
  for (size_t i = 0; i < kCount; ++i) {
    if (flag != kFlags[i].flag) continue;
    if (kFlags[i].kind == ValueKind::kList) {
      lists_[i].push_back(value);
    } else {
      scalars_[i] = value;
    }
    return true;
  }
  return false;
}

bool SectionFlags::given(const std::string& flag) const {
  for (size_t i = 0; i < kCount; ++i)
    if (flag == kFlags[i].flag) return !scalars_[i].empty() || !lists_[i].empty();
  return false;
}

Result<> SectionFlags::apply(RunnerSettings& runner) const {
  // section -> table ("" = the section itself) -> "key = value" lines, in table order.
  std::map<std::string, std::map<std::string, std::string>> text;
  std::vector<std::string> order;
  for (size_t i = 0; i < kCount; ++i) {
    const SectionFlag& f = kFlags[i];
    std::string value;
    if (f.kind == ValueKind::kList) {
      if (lists_[i].empty()) continue;
      value = "[";
      for (size_t j = 0; j < lists_[i].size(); ++j)
        value += (j ? ", " : "") + toml_quote(lists_[i][j]);
      value += "]";
    } else {
      if (scalars_[i].empty()) continue;
      Result<std::string> v = literal(f, scalars_[i]);
      if (!v) return fail(v.error());
      value = *v;
    }
    if (text.find(f.section) == text.end()) order.push_back(f.section);
    text[f.section][f.table] += std::string(f.key) + " = " + value + "\n";
  }
  for (const std::string& section : order) {
    std::string out = text[section][""];
    for (const auto& [table, lines] : text[section]) {
      if (table.empty()) continue;
      out += (out.empty() ? "" : "\n") + std::string("[") + table + "]\n" + lines;
    }
    runner.sections.push_back(section);
    runner.raw_sections[section] = out;
  }
  return {};
}

void apply_executor_defaults(RunnerSettings& runner) {
  if (runner.executor != "docker") return;
  if (std::find(runner.sections.begin(), runner.sections.end(), "docker") == runner.sections.end())
    runner.sections.push_back("docker");
  std::string& text = runner.raw_sections["docker"];
  // Only the section's own keys count: those before its first [sub] or [[sub]] table.
  size_t own_end = text.starts_with("[") ? 0 : text.find("\n[");
  if (own_end != std::string::npos && own_end > 0) ++own_end;  // keep the newline
  std::string_view own = std::string_view(text).substr(0, own_end);
  bool has_volumes = false;
  bool cache_disabled = false;
  while (!own.empty()) {
    size_t nl = own.find('\n');
    std::string_view line = trim(own.substr(0, nl));
    own = nl == std::string_view::npos ? std::string_view() : own.substr(nl + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = trim(line.substr(0, eq));
    if (key == "volumes") has_volumes = true;
    if (key == "disable_cache" && trim(line.substr(eq + 1)) == "true") cache_disabled = true;
  }
  if (has_volumes || cache_disabled) return;
  std::string line = "volumes = [\"/cache\"]\n";
  if (own_end == std::string::npos) {
    if (!text.empty() && !text.ends_with("\n")) text += "\n";
    text += line;
  } else {
    text.insert(own_end, own_end == 0 ? line + "\n" : line);
  }
}

std::string toml_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace glr

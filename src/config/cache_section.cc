// [runners.cache] keys as the official CacheConfig / CacheS3Config TOML names.
#include "config/cache_section.h"

#include <fmt/format.h>

namespace glr::config_internal {
namespace {

struct Reader {
  const std::string& source;
  const std::string& path;

  Error type_error(const toml::node& n, std::string_view key, std::string_view type) const {
    return Error{ErrorKind::kInvalidInput,
                 fmt::format("{}:{}: {}.{}: expected {}", source, n.source().begin.line, path,
                             key, type)};
  }
  Result<> str(const toml::table& t, std::string_view key, std::string& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    if (!n->is_string()) return fail(type_error(*n, key, "a string"));
    out = n->as_string()->get();
    return {};
  }
  Result<> boolean(const toml::table& t, std::string_view key, bool& out) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    if (!n->is_boolean()) return fail(type_error(*n, key, "a boolean"));
    out = n->as_boolean()->get();
    return {};
  }
  Result<> opt_boolean(const toml::table& t, std::string_view key, std::optional<bool>& out) const {
    if (t.get(key) == nullptr) return {};
    bool v = false;
    if (Result<> r = boolean(t, key, v); !r) return r;
    out = v;
    return {};
  }
};

}  // namespace

Result<CacheSettings> read_cache_section(const toml::table& table, const std::string& source,
                                         const std::string& path) {
  Reader rd{source, path};
  CacheSettings c;
  if (Result<> r = rd.str(table, "Type", c.type); !r) return fail(r.error());
  if (Result<> r = rd.str(table, "Path", c.path); !r) return fail(r.error());
  if (Result<> r = rd.boolean(table, "Shared", c.shared); !r) return fail(r.error());
  if (const toml::node* n = table.get("MaxUploadedArchiveSize"); n != nullptr) {
    if (!n->is_integer()) return fail(rd.type_error(*n, "MaxUploadedArchiveSize", "an integer"));
    c.max_uploaded_archive_size = n->as_integer()->get();
  }
  const toml::node* s3n = table.get("s3");
  if (s3n == nullptr || !s3n->is_table()) return c;
  const toml::table& t = *s3n->as_table();
  const std::string s3_path = path + ".s3";
  Reader s3{source, s3_path};
  CacheS3Settings s;
  for (auto [key, field] : {std::pair<const char*, std::string*>{"ServerAddress", &s.server_address},
                            {"AccessKey", &s.access_key},
                            {"SecretKey", &s.secret_key},
                            {"SessionToken", &s.session_token},
                            {"BucketName", &s.bucket_name},
                            {"BucketLocation", &s.bucket_location},
                            {"AuthenticationType", &s.authentication_type},
                            {"ServerSideEncryption", &s.server_side_encryption},
                            {"ServerSideEncryptionKeyID", &s.server_side_encryption_key_id}}) {
    if (Result<> r = s3.str(t, key, *field); !r) return fail(r.error());
  }
  if (Result<> r = s3.boolean(t, "Insecure", s.insecure); !r) return fail(r.error());
  if (Result<> r = s3.opt_boolean(t, "PathStyle", s.path_style); !r) return fail(r.error());
  if (Result<> r = s3.opt_boolean(t, "DualStack", s.dual_stack); !r) return fail(r.error());
  c.s3 = std::move(s);
  return c;
}

}  // namespace glr::config_internal

// Exec status-channel parsing and the transient-answer rule.
#include <gtest/gtest.h>

#include "kubernetes/kube_client.h"

namespace glr::kube {
namespace {

TEST(ExecStatus, SuccessIsZero) {
  Result<int> r = exit_code_from_status(R"({"metadata":{},"status":"Success"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0);
}

TEST(ExecStatus, NonZeroExitCodeFromCauses) {
  Result<int> r = exit_code_from_status(
      R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 3);
}

TEST(ExecStatus, OtherFailureIsAnError) {
  Result<int> r = exit_code_from_status(
      R"j({"status":"Failure","message":"container not found (\"x\")","reason":"InternalError"})j");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("container not found"), std::string::npos);
  EXPECT_FALSE(exit_code_from_status("not json"));
}

TEST(TransientStatus, RetriesServerTroubleOnly) {
  for (int s : {429, 500, 502, 503, 504}) EXPECT_TRUE(is_transient_status(s, "")) << s;
  for (int s : {400, 401, 403, 404, 409, 422}) EXPECT_FALSE(is_transient_status(s, "")) << s;
  EXPECT_TRUE(is_transient_status(409, R"({"message":"etcdserver: request timed out"})"));
}

}  // namespace
}  // namespace glr::kube

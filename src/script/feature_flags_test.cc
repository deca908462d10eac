// Flag resolution order and warnings (executors §3.9, §2.4, §2.7).
#include "script/feature_flags.h"

#include <set>

#include <gtest/gtest.h>

namespace glr {
namespace {

bool default_of(const std::string& name) {
  for (const FeatureFlagDef& def : known_feature_flags()) {
    if (name == def.name) return def.default_value;
  }
  ADD_FAILURE() << "unknown flag " << name;
  return false;
}

TEST(FeatureFlags, TableHasAppendixBDefaultsAndNoDuplicates) {
  std::set<std::string> names;
  for (const FeatureFlagDef& def : known_feature_flags()) {
    EXPECT_TRUE(names.insert(def.name).second) << def.name;
  }
  EXPECT_TRUE(default_of("FF_TIMESTAMPS"));
  EXPECT_TRUE(default_of("FF_MASK_ALL_DEFAULT_TOKENS"));
  EXPECT_TRUE(default_of("FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY"));
  EXPECT_TRUE(default_of("FF_USE_FASTZIP"));
  EXPECT_FALSE(default_of("FF_SCRIPT_SECTIONS"));
  EXPECT_FALSE(default_of("FF_NETWORK_PER_BUILD"));
  EXPECT_FALSE(default_of("FF_TEST_FEATURE"));
  EXPECT_EQ(names.size(), 52u);
}

TEST(FeatureFlags, DefaultsWhenNothingIsSet) {
  ResolvedFlags flags = resolve_feature_flags({}, {});
  EXPECT_TRUE(flags.get("FF_TIMESTAMPS"));
  EXPECT_FALSE(flags.get("FF_SCRIPT_SECTIONS"));
  EXPECT_FALSE(flags.get("FF_NOT_A_FLAG"));
  EXPECT_TRUE(flags.warnings.empty());
  EXPECT_TRUE(changed_flags_for_header(flags).empty());
}

TEST(FeatureFlags, JobVariableUsesStrictBoolAndLastDefinitionWins) {
  Variables vars = {{.key = "FF_SCRIPT_SECTIONS", .value = "false"},
                    {.key = "FF_SCRIPT_SECTIONS", .value = "T"},
                    {.key = "FF_TIMESTAMPS", .value = "0"}};
  ResolvedFlags flags = resolve_feature_flags({}, vars);
  EXPECT_TRUE(flags.get("FF_SCRIPT_SECTIONS"));
  EXPECT_FALSE(flags.get("FF_TIMESTAMPS"));
}

TEST(FeatureFlags, ConfigWinsOverJobVariables) {
  Variables vars = {{.key = "FF_SCRIPT_SECTIONS", .value = "true"},
                    {.key = "FF_TIMESTAMPS", .value = "junk"}};
  ResolvedFlags flags =
      resolve_feature_flags({{"FF_SCRIPT_SECTIONS", false}, {"FF_TIMESTAMPS", false}}, vars);
  EXPECT_FALSE(flags.get("FF_SCRIPT_SECTIONS"));
  EXPECT_FALSE(flags.get("FF_TIMESTAMPS"));
  EXPECT_TRUE(flags.warnings.empty());  // config stops before the junk value is parsed
}

TEST(FeatureFlags, UnparsableValueKeepsDefaultAndWarningBlockRepeats) {
  Variables vars = {{.key = "FF_TIMESTAMPS", .value = "yes"},
                    {.key = "FF_NETWORK_PER_BUILD", .value = "maybe"}};
  ResolvedFlags flags = resolve_feature_flags({}, vars);
  EXPECT_TRUE(flags.get("FF_TIMESTAMPS"));
  EXPECT_FALSE(flags.get("FF_NETWORK_PER_BUILD"));
  std::string a = "FF_NETWORK_PER_BUILD: could not parse feature flag, expected bool, got maybe";
  std::string b = "FF_TIMESTAMPS: could not parse feature flag, expected bool, got yes";
  EXPECT_EQ(flags.warnings, (std::vector<std::string>{a, b, a, b}));
}

TEST(FeatureFlags, HeaderListsChangedFlagsInDefinitionOrder) {
  Variables vars = {{.key = "FF_TIMESTAMPS", .value = "false"},
                    {.key = "FF_NETWORK_PER_BUILD", .value = "true"},
                    {.key = "FF_SCRIPT_SECTIONS", .value = "false"}};
  ResolvedFlags flags = resolve_feature_flags({}, vars);
  std::vector<std::string> changed = changed_flags_for_header(flags);
  EXPECT_EQ(changed, (std::vector<std::string>{"FF_NETWORK_PER_BUILD:true", "FF_TIMESTAMPS:false"}));
}

}  // namespace
}  // namespace glr

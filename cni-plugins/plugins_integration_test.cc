// Filled in by the next commit.
#include "gtest/gtest.h"
TEST(CniPluginsIntegration, Placeholder) {}

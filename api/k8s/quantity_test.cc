#include "api/k8s/quantity.h"

#include <gtest/gtest.h>

#include <limits>

namespace berth::k8s {
namespace {

struct Row {
  const char* in;
  int64_t milli;
  int64_t value;
  const char* canonical;
};

TEST(QuantityTest, ParseTable) {
  const Row rows[] = {
      {"100m", 100, 1, "100m"},
      {"1", 1000, 1, "1"},
      {"0.5", 500, 1, "500m"},
      {"1000m", 1000, 1, "1"},
      {"1500m", 1500, 2, "1500m"},
      {"1e3", 1000000, 1000, "1e3"},
      {"1E3", 1000000, 1000, "1e3"},
      {"1.5e3", 1500000, 1500, "1500"},
      {"1000", 1000000, 1000, "1k"},
      {"1500", 1500000, 1500, "1500"},
      {"1k", 1000000, 1000, "1k"},
      {"2M", 2000000000, 2000000, "2M"},
      {"1Gi", 1073741824000LL, 1073741824, "1Gi"},
      {"0.5Gi", 536870912000LL, 536870912, "512Mi"},
      {"1536Mi", 1610612736000LL, 1610612736, "1536Mi"},
      {"1024Mi", 1073741824000LL, 1073741824, "1Gi"},
      {"1.5Ki", 1536000, 1536, "1536"},
      {"128974848", 128974848000LL, 128974848, "128974848"},
      {"129e6", 129000000000LL, 129000000, "129e6"},
      {"123Mi", 128974848000LL, 128974848, "123Mi"},
      {"0", 0, 0, "0"},
      {"-100m", -100, -1, "-100m"},
      {"+2", 2000, 2, "2"},
      {"1n", 1, 1, "1n"},
      {"1u", 1, 1, "1u"},
      {".5", 500, 1, "500m"},
      {"5.", 5000, 5, "5"},
  };
  for (const Row& r : rows) {
    auto q = Quantity::Parse(r.in);
    ASSERT_TRUE(q.ok()) << r.in << ": " << q.status();
    EXPECT_EQ(q->MilliValue(), r.milli) << r.in;
    EXPECT_EQ(q->Value(), r.value) << r.in;
    EXPECT_EQ(q->String(), r.canonical) << r.in;
    // The canonical form parses back to the same amount.
    auto again = Quantity::Parse(q->String());
    ASSERT_TRUE(again.ok()) << q->String();
    EXPECT_EQ(*again, *q) << r.in;
  }
}

TEST(QuantityTest, Rejects) {
  for (const char* bad : {"", "abc", "1.2.3", "1Qi", "1mi", "m", "1 Gi", "1e", "1ee3", "--1", "1Gi5"}) {
    auto q = Quantity::Parse(bad);
    ASSERT_FALSE(q.ok()) << bad;
    EXPECT_EQ(q.status().message(),
              "quantities must match the regular expression "
              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        << bad;
  }
}

TEST(QuantityTest, HugeValues) {
  EXPECT_EQ(Quantity::Parse("1Ei")->String(), "1Ei");
  EXPECT_EQ(Quantity::Parse("8Ei")->Value(), std::numeric_limits<int64_t>::max());  // clamped
  EXPECT_FALSE(Quantity::Parse("1e999").ok());
  EXPECT_FALSE(Quantity::Parse("999999999999999999999999999999999999999Ei").ok());
  EXPECT_EQ(Quantity::Parse("1e-999")->String(), "1e-9");  // rounded up to the smallest unit
}

TEST(QuantityTest, Compare) {
  EXPECT_LT(Quantity::Parse("500m")->Cmp(*Quantity::Parse("1")), 0);
  EXPECT_EQ(Quantity::Parse("1Ki")->Cmp(*Quantity::Parse("1024")), 0);
  EXPECT_GT(Quantity::Parse("1G")->Cmp(*Quantity::Parse("1Mi")), 0);
  EXPECT_EQ(Quantity::FromMilli(250).String(), "250m");
}

TEST(IntOrStringTest, Basics) {
  EXPECT_EQ(IntOrString::Int(8080).ToString(), "8080");
  EXPECT_EQ(IntOrString::Str("http").ToString(), "http");
  EXPECT_NE(IntOrString::Int(1), IntOrString::Str("1"));
}

}  // namespace
}  // namespace berth::k8s

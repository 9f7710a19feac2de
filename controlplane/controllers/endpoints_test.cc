#include "controlplane/controllers/endpoints.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;

json Service() {
  return json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},
    "spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http"},
                                              {"name":"metrics","port":9090,"targetPort":9090}]}})");
}

json Pod(const std::string& name, const std::string& ip, bool ready, int http_port, const std::string& ns = "shop",
         const std::string& phase = "Running") {
  json pod = {{"metadata", {{"name", name}, {"namespace", ns}, {"uid", "uid-" + name}, {"labels", {{"app", "web"}}}}},
              {"spec", {{"nodeName", "n1"},
                        {"containers", {{{"name", "c"}, {"ports", {{{"name", "http"}, {"containerPort", http_port}}}}}}}}},
              {"status", {{"phase", phase}, {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
  if (!ip.empty()) pod["status"]["podIP"] = ip;
  return pod;
}

std::vector<json> Pods() {
  json terminating = Pod("web-3", "10.0.0.3", true, 8080);
  terminating["metadata"]["deletionTimestamp"] = "2026-12-07T00:00:00Z";
  json db = Pod("db", "10.0.0.9", true, 5432);
  db["metadata"]["labels"]["app"] = "db";
  return {Pod("web-1", "10.0.0.1", true, 8080), Pod("web-2", "10.0.0.2", false, 8081), terminating,
          Pod("web-4", "", true, 8080), Pod("web-5", "10.0.0.5", true, 8080, "other"),
          Pod("web-6", "10.0.0.6", true, 8080, "shop", "Succeeded"), db};
}

TEST(EndpointsTest, SubsetsPerResolvedPortsWithReadyAndNotReadyAddresses) {
  auto endpoints = EndpointsFor(Service(), Pods());
  ASSERT_TRUE(endpoints.ok()) << endpoints.status();
  EXPECT_EQ((*endpoints)["metadata"]["name"], "web");
  EXPECT_EQ((*endpoints)["metadata"]["namespace"], "shop");
  const json& subsets = (*endpoints)["subsets"];
  ASSERT_EQ(subsets.size(), 2u) << subsets.dump();
  EXPECT_EQ(subsets[0]["ports"], json::parse(R"([{"name":"http","port":8080,"protocol":"TCP"},
                                                  {"name":"metrics","port":9090,"protocol":"TCP"}])"));
  ASSERT_EQ(subsets[0]["addresses"].size(), 1u);
  EXPECT_EQ(subsets[0]["addresses"][0]["ip"], "10.0.0.1");
  EXPECT_EQ(subsets[0]["addresses"][0]["targetRef"]["uid"], "uid-web-1");
  EXPECT_EQ(subsets[0]["addresses"][0]["nodeName"], "n1");
  EXPECT_FALSE(subsets[0].contains("notReadyAddresses"));
  EXPECT_EQ(subsets[1]["ports"][0]["port"], 8081);
  EXPECT_EQ(subsets[1]["notReadyAddresses"][0]["ip"], "10.0.0.2");
}

TEST(EndpointsTest, PublishNotReadyAddressesMakesEveryPodAnAddress) {
  json service = Service();
  service["spec"]["publishNotReadyAddresses"] = true;
  auto endpoints = EndpointsFor(service, Pods());
  ASSERT_TRUE(endpoints.ok());
  EXPECT_EQ((*endpoints)["subsets"][1]["addresses"][0]["ip"], "10.0.0.2");
}

TEST(EndpointsTest, SlicesCarryConditionsLabelsAndSplitAtTheLimit) {
  auto slices = EndpointSlicesFor(Service(), Pods());
  ASSERT_TRUE(slices.ok()) << slices.status();
  ASSERT_EQ(slices->size(), 2u);
  const json& first = (*slices)[0];
  EXPECT_EQ(first["metadata"]["labels"]["kubernetes.io/service-name"], "web");
  EXPECT_EQ(first["addressType"], "IPv4");
  ASSERT_EQ(first["endpoints"].size(), 2u);  // web-1 and the terminating web-3
  EXPECT_EQ(first["endpoints"][0]["conditions"], json::parse(R"({"ready":true,"serving":true,"terminating":false})"));
  EXPECT_EQ(first["endpoints"][1]["conditions"], json::parse(R"({"ready":false,"serving":true,"terminating":true})"));
  EXPECT_EQ((*slices)[1]["endpoints"][0]["conditions"]["ready"], false);

  auto small = EndpointSlicesFor(Service(), Pods(), 1);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->size(), 3u);
  EXPECT_EQ((*small)[2]["metadata"]["name"], "web-2");
}

TEST(EndpointsTest, BadServicesAreNamedAndSelectorlessOnesSkipped) {
  json service = Service();
  service["spec"]["ports"][1]["port"] = "ninety";
  EXPECT_EQ(std::string(EndpointsFor(service, Pods()).status().message()), "spec.ports[1].port: not an integer");
  service = Service();
  service["spec"]["ports"][0]["targetPort"] = json::array();
  EXPECT_EQ(std::string(EndpointSlicesFor(service, Pods()).status().message()),
            "spec.ports[0].targetPort: neither a number nor a name");
  EXPECT_TRUE(ServiceHasSelector(Service()));
  service = Service();
  service["spec"].erase("selector");
  EXPECT_FALSE(ServiceHasSelector(service));
}

}  // namespace
}  // namespace berth::controllers

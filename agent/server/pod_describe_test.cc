#include "agent/server/pod_describe.h"

#include "agent/server/events_json.h"
#include "agent/server/tab_writer.h"
#include "api/k8s/codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using ::testing::HasSubstr;

// A pod as berth-agent's /pods serves it (one item of the PodList).
constexpr char kPodJson[] = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "web-node1", "namespace": "default", "uid": "u1",
               "labels": {"app": "web", "tier": "front"},
               "annotations": {"kubernetes.io/config.hash": "abc", "kubernetes.io/config.source": "file"}},
  "spec": {
    "nodeName": "node1", "restartPolicy": "Always",
    "initContainers": [{"name": "setup", "image": "busybox", "command": ["sh", "-c", "echo hi"]}],
    "containers": [{
      "name": "app", "image": "busybox:1.36",
      "command": ["sh", "-c"], "args": ["httpd -f\nsleep 1"],
      "ports": [{"containerPort": 8080, "protocol": "TCP"}],
      "env": [{"name": "MODE", "value": "prod"},
              {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
              {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}}],
      "resources": {"limits": {"memory": "64Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
      "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
                        "initialDelaySeconds": 1, "timeoutSeconds": 1, "periodSeconds": 10,
                        "successThreshold": 1, "failureThreshold": 3},
      "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "timeoutSeconds": 1, "periodSeconds": 5,
                         "successThreshold": 1, "failureThreshold": 3},
      "volumeMounts": [{"name": "data", "mountPath": "/data"},
                       {"name": "conf", "mountPath": "/etc/app", "readOnly": true, "subPath": "app"}]
    }],
    "volumes": [{"name": "data", "emptyDir": {}},
                {"name": "conf", "hostPath": {"path": "/srv/conf", "type": "Directory"}}]
  },
  "status": {
    "phase": "Running", "hostIP": "10.0.0.1", "podIP": "10.88.0.5", "podIPs": [{"ip": "10.88.0.5"}],
    "startTime": "2026-12-07T16:00:00Z", "qosClass": "Burstable",
    "conditions": [{"type": "PodReadyToStartContainers", "status": "True"},
                   {"type": "Initialized", "status": "True"},
                   {"type": "Ready", "status": "True"},
                   {"type": "ContainersReady", "status": "True"},
                   {"type": "PodScheduled", "status": "True"}],
    "initContainerStatuses": [{"name": "setup", "image": "busybox", "imageID": "sha256:aa", "containerID": "berth://i1",
       "ready": true, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2026-12-07T16:00:01Z",
                                "finishedAt": "2026-12-07T16:00:02Z", "containerID": "berth://i1"}}}],
    "containerStatuses": [{"name": "app", "image": "busybox:1.36", "imageID": "sha256:bb", "containerID": "berth://c2",
       "ready": true, "restartCount": 1, "started": true,
       "state": {"running": {"startedAt": "2026-12-07T16:00:10Z"}},
       "lastState": {"terminated": {"exitCode": 137, "reason": "Error", "startedAt": "2026-12-07T16:00:03Z",
                                    "finishedAt": "2026-12-07T16:00:09Z", "containerID": "berth://c1"}}}]
  }
})";

// What /events?pod=default/web-node1&format=json served for it.
constexpr char kEventsJson[] = R"({"kind":"EventList","apiVersion":"v1","metadata":{},"items":[
  {"involvedObject":{"kind":"Pod","namespace":"default","name":"web-node1"},"type":"Normal","reason":"Pulled",
   "message":"Container image \"busybox:1.36\" already present on machine","source":{"component":"kubelet","host":"node1"},
   "firstTimestamp":"2026-12-07T16:00:01Z","lastTimestamp":"2026-12-07T16:00:09Z","count":2},
  {"involvedObject":{"kind":"Pod","namespace":"default","name":"web-node1"},"type":"Normal","reason":"Started",
   "message":"Started container app","source":{"component":"kubelet","host":"node1"},
   "firstTimestamp":"2026-12-07T16:00:10Z","lastTimestamp":"2026-12-07T16:00:10Z","count":1}]})";

constexpr char kExpected[] = R"(Name:             web-node1
Namespace:        default
Priority:         0
Service Account:  
Node:             node1/10.0.0.1
Start Time:       Mon, 07 Dec 2026 16:00:00 +0000
Labels:           app=web
                  tier=front
Annotations:      kubernetes.io/config.hash: abc
                  kubernetes.io/config.source: file
Status:           Running
IP:               10.88.0.5
IPs:
  IP:  10.88.0.5
Init Containers:
  setup:
    Container ID:  berth://i1
    Image:         busybox
    Image ID:      sha256:aa
    Port:          <none>
    Host Port:     <none>
    Command:
      sh
      -c
      echo hi
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
      Started:      Mon, 07 Dec 2026 16:00:01 +0000
      Finished:     Mon, 07 Dec 2026 16:00:02 +0000
    Ready:          True
    Restart Count:  0
    Environment:    <none>
    Mounts:         <none>
Containers:
  app:
    Container ID:  berth://c2
    Image:         busybox:1.36
    Image ID:      sha256:bb
    Port:          8080/TCP
    Host Port:     0/TCP
    Command:
      sh
      -c
    Args:
      httpd -f
      sleep 1
    State:          Running
      Started:      Mon, 07 Dec 2026 16:00:10 +0000
    Last State:     Terminated
      Reason:       Error
      Exit Code:    137
      Started:      Mon, 07 Dec 2026 16:00:03 +0000
      Finished:     Mon, 07 Dec 2026 16:00:09 +0000
    Ready:          True
    Restart Count:  1
    Limits:
      memory:  64Mi
    Requests:
      cpu:      100m
      memory:   64Mi
    Liveness:   http-get http://:8080/healthz delay=1s timeout=1s period=10s #success=1 #failure=3
    Readiness:  exec [cat /tmp/ready] delay=0s timeout=1s period=5s #success=1 #failure=3
    Environment:
      MODE:  prod
      POD:   web-node1 (v1:metadata.name)
      MEM:   64Mi (limits.memory)
    Mounts:
      /data from data (rw)
      /etc/app from conf (ro,path="app")
Conditions:
  Type                        Status
  PodReadyToStartContainers   True 
  Initialized                 True 
  Ready                       True 
  ContainersReady             True 
  PodScheduled                True 
Volumes:
  data:
    Type:       EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:     
    SizeLimit:  <unset>
  conf:
    Type:          HostPath (bare host directory volume)
    Path:          /srv/conf
    HostPathType:  Directory
QoS Class:         Burstable
Node-Selectors:    <none>
Tolerations:       <none>
Events:
  Type    Reason   Age                From     Message
  ----    ------   ----               ----     -------
  Normal  Pulled   51s (x2 over 59s)  kubelet  Container image "busybox:1.36" already present on machine
  Normal  Started  50s                kubelet  Started container app
)";

TEST(PodDescribeTest, PrintsWhatKubectlDescribePodPrints) {
  auto pod = k8s::DecodePodJson(kPodJson);
  ASSERT_TRUE(pod.ok()) << pod.status();
  auto events = EventListFromJson(kEventsJson);
  ASSERT_TRUE(events.ok()) << events.status();
  absl::Time now;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, "2026-12-07T16:01:00Z", &now, &err));
  EXPECT_EQ(DescribePod(*pod, *events, now, absl::UTCTimeZone()), kExpected);
}

TEST(PodDescribeTest, WaitingStateAndNoEvents) {
  auto pod = k8s::DecodePodJson(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"ns"},
    "spec":{"containers":[{"name":"c","image":"nope:1","ports":[{"containerPort":80,"hostPort":8080},{"containerPort":53,"protocol":"UDP"}]}]},
    "status":{"phase":"Pending","containerStatuses":[{"name":"c","image":"nope:1","imageID":"","ready":false,
      "restartCount":0,"state":{"waiting":{"reason":"ErrImagePull","message":"pull failed"}}}]}})");
  ASSERT_TRUE(pod.ok()) << pod.status();
  std::string text = DescribePod(*pod, {}, absl::Now(), absl::UTCTimeZone());
  EXPECT_THAT(text, HasSubstr("Node:             <none>\n"));
  // One run of tab-separated lines from Container ID to Tolerations: one width (Go's tabwriter).
  EXPECT_THAT(text, HasSubstr("    Ports:          80/TCP, 53/UDP\n    Host Ports:     8080/TCP, 0/UDP\n"));
  EXPECT_THAT(text, HasSubstr("    State:          Waiting\n      Reason:       ErrImagePull\n"));
  EXPECT_THAT(text, HasSubstr("IPs:              <none>\n"));
  EXPECT_THAT(text, HasSubstr("    Mounts:         <none>\nVolumes:            <none>\n"));
  EXPECT_THAT(text, ::testing::EndsWith("Events:  <none>\n"));
}

TEST(PodDescribeTest, ProbeLines) {
  k8s::Probe tcp;
  tcp.tcpSocket = k8s::TCPSocketAction{k8s::IntOrString::Str("http"), ""};
  tcp.periodSeconds = 10;
  tcp.timeoutSeconds = 1;
  tcp.successThreshold = 1;
  tcp.failureThreshold = 3;
  EXPECT_EQ(DescribeProbe(tcp), "tcp-socket :http delay=0s timeout=1s period=10s #success=1 #failure=3");
  k8s::Probe grpc = tcp;
  grpc.tcpSocket.reset();
  grpc.grpc = k8s::GRPCAction{9090, std::string("liveness")};
  EXPECT_EQ(DescribeProbe(grpc), "grpc <pod>:9090 liveness delay=0s timeout=1s period=10s #success=1 #failure=3");
  k8s::Probe https = tcp;
  https.tcpSocket.reset();
  https.httpGet = k8s::HTTPGetAction{"/ready", k8s::IntOrString::Int(8443), "10.0.0.2", "HTTPS", {}};
  EXPECT_EQ(DescribeProbe(https),
            "http-get https://10.0.0.2:8443/ready delay=0s timeout=1s period=10s #success=1 #failure=3");
}

TEST(TabWriterTest, AlignsRunsOfLinesThatShareAColumn) {
  EXPECT_EQ(AlignTabs("a:\tx\nlonger:\ty\nbreak\n  b:\tz\n"), "a:       x\nlonger:  y\nbreak\n  b:  z\n");
  // Nested columns: the second column is sized over the lines that have it.
  EXPECT_EQ(AlignTabs("T\tR\tM\nNormal\tPulled\tok\nWarning\tBackOff\tno\n"),
            "T        R        M\nNormal   Pulled   ok\nWarning  BackOff  no\n");
}

TEST(EventsJsonTest, AggregatesIdenticalEventsAndRoundTrips) {
  absl::Time t0 = absl::FromUnixSeconds(1765123200);
  std::vector<Event> events = {
      {t0, "Normal", "pod/ns/p", "Pulled", "present"},
      {t0 + absl::Seconds(1), "Warning", "pod/ns/p", "BackOff", "Back-off restarting failed container c"},
      {t0 + absl::Seconds(5), "Warning", "pod/ns/p", "BackOff", "Back-off restarting failed container c"},
      {t0 + absl::Seconds(6), "Warning", "file//etc/m/bad.yaml", "FailedToParse", "bad"},
  };
  auto records = AggregateEvents(events);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].reason, "BackOff");
  EXPECT_EQ(records[1].count, 2);
  EXPECT_EQ(records[1].first, t0 + absl::Seconds(1));
  EXPECT_EQ(records[1].last, t0 + absl::Seconds(5));
  EXPECT_EQ(records[2].kind, "File");
  EXPECT_EQ(records[2].name, "/etc/m/bad.yaml");
  auto back = EventListFromJson(EventListToJson(records, "node1").dump());
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 3u);
  EXPECT_EQ((*back)[1].count, 2);
  EXPECT_EQ((*back)[1].namespace_, "ns");
  EXPECT_EQ((*back)[1].name, "p");
  EXPECT_EQ((*back)[1].source, "kubelet");
  EXPECT_EQ((*back)[1].last, t0 + absl::Seconds(5));
  EXPECT_FALSE(EventListFromJson("[]").ok());
  EXPECT_FALSE(EventListFromJson("{\"items\": 3}").ok());
}

}  // namespace
}  // namespace berth::agent

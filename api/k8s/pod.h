// core/v1 Pod: PodSpec, PodSecurityContext, PodStatus and their parts.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/k8s/container.h"
#include "api/k8s/meta.h"
#include "api/k8s/volume.h"

namespace berth::k8s {

struct Sysctl {
  std::string name;
  std::string value;
  bool operator==(const Sysctl&) const = default;
};

struct PodSecurityContext {
  std::optional<SELinuxOptions> seLinuxOptions;
  std::optional<int64_t> runAsUser;
  std::optional<int64_t> runAsGroup;
  std::optional<bool> runAsNonRoot;
  std::vector<int64_t> supplementalGroups;
  std::optional<int64_t> fsGroup;
  std::vector<Sysctl> sysctls;
  std::optional<std::string> fsGroupChangePolicy;
  std::optional<SeccompProfile> seccompProfile;
  std::optional<std::string> supplementalGroupsPolicy;
  std::optional<std::string> seLinuxChangePolicy;
  nlohmann::json windowsOptions;   // raw; null when unset
  nlohmann::json appArmorProfile;  // raw; null when unset
  bool operator==(const PodSecurityContext&) const = default;
};

struct PodDNSConfigOption {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const PodDNSConfigOption&) const = default;
};

struct PodDNSConfig {
  std::vector<std::string> nameservers;
  std::vector<std::string> searches;
  std::vector<PodDNSConfigOption> options;
  bool operator==(const PodDNSConfig&) const = default;
};

struct Toleration {
  std::string key;
  std::string operator_;  // "operator" on the wire: Exists, Equal
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
  std::optional<int64_t> tolerationSeconds;
  bool operator==(const Toleration&) const = default;
};

struct HostAlias {
  std::string ip;
  std::vector<std::string> hostnames;
  bool operator==(const HostAlias&) const = default;
};

struct PodReadinessGate {
  std::string conditionType;
  bool operator==(const PodReadinessGate&) const = default;
};

struct PodOS {
  std::string name;  // linux, windows
  bool operator==(const PodOS&) const = default;
};

struct PodSpec {
  std::vector<Volume> volumes;
  std::vector<Container> initContainers;
  std::vector<Container> containers;
  std::vector<nlohmann::json> ephemeralContainers;  // raw EphemeralContainer objects
  std::string restartPolicy;  // Always, OnFailure, Never
  std::optional<int64_t> terminationGracePeriodSeconds;
  std::optional<int64_t> activeDeadlineSeconds;
  std::string dnsPolicy;  // ClusterFirst, ClusterFirstWithHostNet, Default, None
  std::map<std::string, std::string> nodeSelector;
  std::string serviceAccountName;
  std::string serviceAccount;  // deprecated alias of serviceAccountName
  std::optional<bool> automountServiceAccountToken;
  std::string nodeName;
  bool hostNetwork = false;
  bool hostPID = false;
  bool hostIPC = false;
  std::optional<bool> shareProcessNamespace;
  std::optional<PodSecurityContext> securityContext;
  std::string hostname;
  std::string subdomain;
  nlohmann::json affinity;  // raw Affinity; null when unset
  std::string schedulerName;
  std::vector<Toleration> tolerations;
  std::vector<HostAlias> hostAliases;
  std::string priorityClassName;
  std::optional<int32_t> priority;
  std::optional<PodDNSConfig> dnsConfig;
  std::vector<PodReadinessGate> readinessGates;
  std::optional<std::string> runtimeClassName;
  std::optional<bool> enableServiceLinks;
  std::optional<std::string> preemptionPolicy;
  std::optional<PodOS> os;
  ResourceList overhead;
  std::vector<nlohmann::json> topologySpreadConstraints;  // raw
  std::optional<bool> setHostnameAsFQDN;
  std::optional<bool> hostUsers;
  std::vector<nlohmann::json> schedulingGates;  // raw
  std::vector<nlohmann::json> resourceClaims;   // raw
  std::optional<ResourceRequirements> resources;  // pod-level resources
  bool operator==(const PodSpec&) const = default;
};

struct PodCondition {
  std::string type;  // PodReadyToStartContainers, Initialized, ContainersReady, Ready, PodScheduled
  std::string status;  // True, False, Unknown
  std::optional<std::string> lastProbeTime;
  std::optional<std::string> lastTransitionTime;
  std::string reason;
  std::string message;
  bool operator==(const PodCondition&) const = default;
};

struct ContainerStateWaiting {
  std::string reason;
  std::string message;
  bool operator==(const ContainerStateWaiting&) const = default;
};

struct ContainerStateRunning {
  std::optional<std::string> startedAt;
  bool operator==(const ContainerStateRunning&) const = default;
};

struct ContainerStateTerminated {
  int32_t exitCode = 0;
  int32_t signal = 0;
  std::string reason;
  std::string message;
  std::optional<std::string> startedAt;
  std::optional<std::string> finishedAt;
  std::string containerID;
  bool operator==(const ContainerStateTerminated&) const = default;
};

struct ContainerState {
  std::optional<ContainerStateWaiting> waiting;
  std::optional<ContainerStateRunning> running;
  std::optional<ContainerStateTerminated> terminated;
  bool operator==(const ContainerState&) const = default;
};

struct ContainerStatus {
  std::string name;
  ContainerState state;
  ContainerState lastState;
  bool ready = false;
  int32_t restartCount = 0;
  std::string image;
  std::string imageID;
  std::string containerID;
  std::optional<bool> started;
  ResourceList allocatedResources;
  std::optional<ResourceRequirements> resources;
  std::vector<nlohmann::json> volumeMounts;  // raw VolumeMountStatus objects
  nlohmann::json user;                       // raw ContainerUser; null when unset
  std::optional<std::string> stopSignal;
  bool operator==(const ContainerStatus&) const = default;
};

struct PodIP {
  std::string ip;
  bool operator==(const PodIP&) const = default;
};

struct HostIP {
  std::string ip;
  bool operator==(const HostIP&) const = default;
};

struct PodStatus {
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown
  std::vector<PodCondition> conditions;
  std::string message;
  std::string reason;
  std::string hostIP;
  std::vector<HostIP> hostIPs;
  std::string podIP;
  std::vector<PodIP> podIPs;
  std::optional<std::string> startTime;
  std::vector<ContainerStatus> initContainerStatuses;
  std::vector<ContainerStatus> containerStatuses;
  std::string qosClass;  // Guaranteed, Burstable, BestEffort
  std::string nominatedNodeName;
  std::vector<ContainerStatus> ephemeralContainerStatuses;
  std::string resize;
  int64_t observedGeneration = 0;
  std::vector<nlohmann::json> resourceClaimStatuses;  // raw
  bool operator==(const PodStatus&) const = default;
};

struct Pod {
  TypeMeta typeMeta{"v1", "Pod"};  // inlined: "apiVersion", "kind"
  ObjectMeta metadata;
  PodSpec spec;
  PodStatus status;
  bool operator==(const Pod&) const = default;
};

}  // namespace berth::k8s

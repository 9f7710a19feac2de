// core/v1 Container and what it holds: ports, env, resources, mounts, probes,
// lifecycle hooks and the container security context.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/k8s/quantity.h"

namespace berth::k8s {

using ResourceList = std::map<std::string, Quantity>;

struct ContainerPort {
  std::string name;
  int32_t hostPort = 0;
  int32_t containerPort = 0;
  std::string protocol;  // TCP, UDP, SCTP
  std::string hostIP;
  bool operator==(const ContainerPort&) const = default;
};

struct EnvVar {
  std::string name;
  std::string value;
  nlohmann::json valueFrom;  // raw EnvVarSource; null when unset
  bool operator==(const EnvVar&) const = default;
};

struct EnvFromSource {
  std::string prefix;
  nlohmann::json configMapRef;  // raw; null when unset
  nlohmann::json secretRef;
  bool operator==(const EnvFromSource&) const = default;
};

struct ResourceRequirements {
  ResourceList limits;
  ResourceList requests;
  std::vector<nlohmann::json> claims;  // raw ResourceClaim references
  bool operator==(const ResourceRequirements&) const = default;
};

struct VolumeMount {
  std::string name;
  bool readOnly = false;
  std::string mountPath;
  std::string subPath;
  std::string subPathExpr;
  std::optional<std::string> mountPropagation;
  std::optional<std::string> recursiveReadOnly;
  bool operator==(const VolumeMount&) const = default;
};

struct VolumeDevice {
  std::string name;
  std::string devicePath;
  bool operator==(const VolumeDevice&) const = default;
};

struct ExecAction {
  std::vector<std::string> command;
  bool operator==(const ExecAction&) const = default;
};

struct HTTPHeader {
  std::string name;
  std::string value;
  bool operator==(const HTTPHeader&) const = default;
};

struct HTTPGetAction {
  std::string path;
  IntOrString port;
  std::string host;
  std::string scheme;  // HTTP, HTTPS
  std::vector<HTTPHeader> httpHeaders;
  bool operator==(const HTTPGetAction&) const = default;
};

struct TCPSocketAction {
  IntOrString port;
  std::string host;
  bool operator==(const TCPSocketAction&) const = default;
};

struct GRPCAction {
  int32_t port = 0;
  std::optional<std::string> service;
  bool operator==(const GRPCAction&) const = default;
};

struct SleepAction {
  int64_t seconds = 0;
  bool operator==(const SleepAction&) const = default;
};

struct Probe {
  std::optional<ExecAction> exec;
  std::optional<HTTPGetAction> httpGet;
  std::optional<TCPSocketAction> tcpSocket;
  std::optional<GRPCAction> grpc;
  int32_t initialDelaySeconds = 0;
  int32_t timeoutSeconds = 0;
  int32_t periodSeconds = 0;
  int32_t successThreshold = 0;
  int32_t failureThreshold = 0;
  std::optional<int64_t> terminationGracePeriodSeconds;
  bool operator==(const Probe&) const = default;
};

struct LifecycleHandler {
  std::optional<ExecAction> exec;
  std::optional<HTTPGetAction> httpGet;
  std::optional<TCPSocketAction> tcpSocket;  // deprecated, accepted on decode
  std::optional<SleepAction> sleep;
  bool operator==(const LifecycleHandler&) const = default;
};

struct Lifecycle {
  std::optional<LifecycleHandler> postStart;
  std::optional<LifecycleHandler> preStop;
  std::optional<std::string> stopSignal;
  bool operator==(const Lifecycle&) const = default;
};

struct Capabilities {
  std::vector<std::string> add;
  std::vector<std::string> drop;
  bool operator==(const Capabilities&) const = default;
};

struct SeccompProfile {
  std::string type;  // RuntimeDefault, Unconfined, Localhost
  std::optional<std::string> localhostProfile;
  bool operator==(const SeccompProfile&) const = default;
};

struct SELinuxOptions {
  std::string user;
  std::string role;
  std::string type;
  std::string level;
  bool operator==(const SELinuxOptions&) const = default;
};

struct SecurityContext {
  std::optional<Capabilities> capabilities;
  std::optional<bool> privileged;
  std::optional<SELinuxOptions> seLinuxOptions;
  std::optional<int64_t> runAsUser;
  std::optional<int64_t> runAsGroup;
  std::optional<bool> runAsNonRoot;
  std::optional<bool> readOnlyRootFilesystem;
  std::optional<bool> allowPrivilegeEscalation;
  std::optional<std::string> procMount;
  std::optional<SeccompProfile> seccompProfile;
  nlohmann::json windowsOptions;   // raw; null when unset
  nlohmann::json appArmorProfile;  // raw; null when unset
  bool operator==(const SecurityContext&) const = default;
};

struct Container {
  std::string name;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string workingDir;
  std::vector<ContainerPort> ports;
  std::vector<EnvFromSource> envFrom;
  std::vector<EnvVar> env;
  ResourceRequirements resources;
  std::vector<nlohmann::json> resizePolicy;  // raw ContainerResizePolicy objects
  std::optional<std::string> restartPolicy;  // init containers only: "Always" makes a sidecar
  std::vector<VolumeMount> volumeMounts;
  std::vector<VolumeDevice> volumeDevices;
  std::optional<Probe> livenessProbe;
  std::optional<Probe> readinessProbe;
  std::optional<Probe> startupProbe;
  std::optional<Lifecycle> lifecycle;
  std::string terminationMessagePath;
  std::string terminationMessagePolicy;  // File, FallbackToLogsOnError
  std::string imagePullPolicy;           // Always, IfNotPresent, Never
  std::optional<SecurityContext> securityContext;
  bool stdin = false;
  bool stdinOnce = false;
  bool tty = false;
  bool operator==(const Container&) const = default;
};

}  // namespace berth::k8s

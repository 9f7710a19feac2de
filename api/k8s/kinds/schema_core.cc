// core/v1 kinds other than Pod (format: schema.h).
#include "api/k8s/kinds/schema_text.h"

namespace berth::k8s::kinds {

std::string_view SchemaTextCore() {
  return R"(
package io.k8s.api.core.v1
Namespace: @kind A scope for names; deleting it deletes everything in it.
  spec NamespaceSpec Desired state of the namespace.
  status NamespaceStatus Current state of the namespace.
NamespaceSpec: Desired state of a namespace.
  finalizers []string Finalizers that must be cleared before the namespace is removed; defaults to [kubernetes].
NamespaceStatus: Current state of a namespace.
  phase string Active or Terminating.
  conditions []NamespaceCondition @merge=type Conditions of the namespace.
NamespaceCondition: One condition of a namespace.
  type string! Condition type.
  status string! True, False or Unknown.
  lastTransitionTime Time When the status last changed.
  reason string CamelCase reason.
  message string Human-readable details.
Node: @kind A worker machine that runs pods.
  spec NodeSpec Desired state of the node.
  status NodeStatus Most recently observed state; written by the node agent.
NodeSpec: Desired state of a node.
  podCIDR string Pod address range assigned to the node.
  podCIDRs []string @merge= Pod address ranges, at most one per family.
  providerID string Id of the node with its cloud provider.
  unschedulable boolean Keep new pods off the node (cordon).
  taints []Taint Taints that repel pods without a matching toleration.
  configSource object Deprecated.
  externalID string Deprecated.
Taint: Repels pods that do not tolerate it.
  key string! Taint key.
  value string Taint value.
  effect string! NoSchedule, PreferNoSchedule or NoExecute.
  timeAdded Time When a NoExecute taint was added.
NodeStatus: Observed state of a node.
  capacity map[]Quantity Total resources of the node.
  allocatable map[]Quantity Resources available to pods; defaults to capacity.
  phase string Deprecated.
  conditions []NodeCondition @merge=type Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable.
  addresses []NodeAddress @merge=type Addresses of the node.
  daemonEndpoints NodeDaemonEndpoints Ports the node agent listens on.
  nodeInfo NodeSystemInfo Versions and ids of the node.
  images []ContainerImage Images present on the node.
  volumesInUse []string Volumes attached and mounted.
  volumesAttached []object Volumes attached to the node.
  config object Deprecated.
  runtimeHandlers []object Runtime handlers the node offers.
  features object Features the node supports.
NodeCondition: One condition of a node.
  type string! Condition type.
  status string! True, False or Unknown.
  lastHeartbeatTime Time When the condition was last reported.
  lastTransitionTime Time When the status last changed.
  reason string CamelCase reason.
  message string Human-readable details.
NodeAddress: An address of a node.
  type string! Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.
  address string! The address.
NodeDaemonEndpoints: Ports the node's daemons listen on.
  kubeletEndpoint DaemonEndpoint The node agent's HTTPS port.
DaemonEndpoint: A port.
  Port int32! Port number.
NodeSystemInfo: Identity and versions of a node.
  machineID string Machine id.
  systemUUID string System UUID.
  bootID string Boot id.
  kernelVersion string Kernel release.
  osImage string Operating system name.
  containerRuntimeVersion string Runtime name and version.
  kubeletVersion string Node agent version.
  kubeProxyVersion string Deprecated.
  operatingSystem string linux or windows.
  architecture string CPU architecture.
  swap object Swap information.
ContainerImage: An image present on a node.
  names []string Names of the image.
  sizeBytes int64 Size in bytes.
Service: @kind A stable address and load-balanced port set in front of the pods its selector matches.
  spec ServiceSpec Desired state of the service.
  status ServiceStatus Current state, such as load balancer addresses.
ServiceSpec: Desired state of a service.
  ports []ServicePort @merge=port @keys=port,protocol Ports the service exposes.
  selector map[]string @map=atomic Labels of the pods traffic is sent to.
  clusterIP string Virtual address; None for a headless service; allocated when empty.
  clusterIPs []string Virtual addresses, one per family.
  type string ClusterIP, NodePort, LoadBalancer or ExternalName; defaults to ClusterIP.
  externalIPs []string Extra addresses the service answers on.
  sessionAffinity string ClientIP or None; defaults to None.
  loadBalancerIP string Deprecated.
  loadBalancerSourceRanges []string Client ranges allowed through the load balancer.
  externalName string DNS name for an ExternalName service.
  externalTrafficPolicy string Cluster or Local.
  healthCheckNodePort int32 Health check port for Local external traffic.
  publishNotReadyAddresses boolean Publish addresses of pods that are not ready.
  sessionAffinityConfig SessionAffinityConfig Session affinity settings.
  ipFamilies []string IPv4 and/or IPv6.
  ipFamilyPolicy string SingleStack, PreferDualStack or RequireDualStack.
  allocateLoadBalancerNodePorts boolean Allocate node ports for a LoadBalancer service; defaults to true.
  loadBalancerClass string Load balancer implementation.
  internalTrafficPolicy string Cluster or Local.
  trafficDistribution string Preference for routing, such as PreferClose.
ServicePort: A port of a service.
  name string Port name; required when there is more than one port.
  protocol string TCP, UDP or SCTP; defaults to TCP.
  appProtocol string Application protocol.
  port int32! Port the service exposes.
  targetPort IntOrString Port number or name on the pods; defaults to port.
  nodePort int32 Node port for NodePort and LoadBalancer services.
SessionAffinityConfig: Session affinity settings.
  clientIP ClientIPConfig ClientIP affinity settings.
ClientIPConfig: ClientIP affinity settings.
  timeoutSeconds int32 Affinity lifetime; defaults to 10800.
ServiceStatus: Current state of a service.
  loadBalancer LoadBalancerStatus Load balancer state.
  conditions []Condition @merge=type Conditions of the service.
LoadBalancerStatus: State of a load balancer.
  ingress []LoadBalancerIngress Ingress points.
LoadBalancerIngress: A load balancer ingress point.
  ip string Address.
  hostname string Host name.
  ipMode string VIP or Proxy.
  ports []object Port status.
Endpoints: @kind The addresses and ports that implement a service.
  subsets []EndpointSubset Groups of addresses that share ports.
EndpointSubset: Addresses with a common set of ports.
  addresses []EndpointAddress Ready addresses.
  notReadyAddresses []EndpointAddress Addresses not ready yet.
  ports []EndpointPort Ports of the addresses.
EndpointAddress: One endpoint address.
  ip string! Address.
  hostname string Host name.
  nodeName string Node hosting the endpoint.
  targetRef ObjectReference Object behind the endpoint.
EndpointPort: A port of an endpoint.
  name string Port name, matching the service port.
  port int32! Port number.
  protocol string TCP, UDP or SCTP; defaults to TCP.
  appProtocol string Application protocol.
ConfigMap: @kind Configuration data as key/value pairs.
  immutable boolean When true, data cannot be changed.
  data map[]string UTF-8 values.
  binaryData map[]bytes Binary values (base64 in JSON).
Secret: @kind Sensitive data, stored encrypted at rest.
  immutable boolean When true, data cannot be changed.
  data map[]bytes Values (base64 in JSON).
  stringData map[]string Write-only convenience: merged into data as plain text.
  type string Opaque, kubernetes.io/tls, ...; defaults to Opaque.
Event: @kind A report of something that happened to an object.
  involvedObject ObjectReference! The object the event is about.
  reason string Short CamelCase reason.
  message string Human-readable description.
  source EventSource Component that reported it.
  firstTimestamp Time When the event was first seen.
  lastTimestamp Time When the event was last seen.
  count int32 How many times it happened.
  type string Normal or Warning.
  eventTime MicroTime When the event was first observed.
  series EventSeries Data about a series of events.
  action string What was done.
  related ObjectReference A second object involved.
  reportingComponent string Controller that reported it.
  reportingInstance string Instance of the controller.
EventSource: Component that reported an event.
  component string Component name.
  host string Node name.
EventSeries: A series of recurring events.
  count int32 Occurrences in the series.
  lastObservedTime MicroTime When the last one was seen.
ServiceAccount: @kind An identity for processes that run in pods.
  secrets []ObjectReference @merge=name Secrets pods of this account may use.
  imagePullSecrets []LocalObjectReference Secrets used to pull images for pods of this account.
  automountServiceAccountToken boolean Whether pods mount a token by default.
)";
}

}  // namespace berth::k8s::kinds

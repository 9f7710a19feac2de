// coordination.k8s.io/v1, discovery.k8s.io/v1 and events.k8s.io/v1 kinds (format: schema.h).
#include "api/k8s/kinds/schema_text.h"

namespace berth::k8s::kinds {

std::string_view SchemaTextOther() {
  return R"(
package io.k8s.api.coordination.v1
Lease: @kind A lease held by one holder at a time (leader election, node heartbeats).
  spec LeaseSpec The lease.
LeaseSpec: A lease.
  holderIdentity string Current holder.
  leaseDurationSeconds int32 Seconds the holder keeps the lease without renewing it.
  acquireTime MicroTime When the current holder acquired it.
  renewTime MicroTime When the holder last renewed it.
  leaseTransitions int32 Times the lease changed holder.
  strategy string Leader election strategy.
  preferredHolder string Holder the strategy prefers.

package io.k8s.api.discovery.v1
EndpointSlice: @kind A subset of the endpoints of a service.
  addressType string! IPv4, IPv6 or FQDN. Immutable.
  endpoints []Endpoint! Endpoints in the slice.
  ports []EndpointPort Ports every endpoint in the slice exposes.
Endpoint: One endpoint of an EndpointSlice.
  addresses []string! @list=set Addresses of the endpoint.
  conditions EndpointConditions Readiness of the endpoint.
  hostname string Host name.
  targetRef ObjectReference Object behind the endpoint.
  deprecatedTopology map[]string Deprecated.
  nodeName string Node hosting the endpoint.
  zone string Zone of the endpoint.
  hints EndpointHints Routing hints.
EndpointConditions: Readiness of an endpoint.
  ready boolean Ready to receive traffic.
  serving boolean Serving, regardless of termination.
  terminating boolean Terminating.
EndpointHints: Routing hints.
  forZones []object Zones that should use this endpoint.
  forNodes []object Nodes that should use this endpoint.
EndpointPort: A port of an EndpointSlice.
  name string Port name, matching the service port.
  protocol string TCP, UDP or SCTP; defaults to TCP.
  port int32 Port number.
  appProtocol string Application protocol.

package io.k8s.api.events.v1
Event: @kind A report of something that happened to an object.
  eventTime MicroTime! When the event was first observed.
  series EventSeries Data about a series of events.
  reportingController string Controller that reported it.
  reportingInstance string Instance of the controller.
  action string What was done.
  reason string Short CamelCase reason.
  regarding ObjectReference The object the event is about.
  related ObjectReference A second object involved.
  note string Human-readable description.
  type string Normal or Warning.
  deprecatedSource EventSource Source, for core/v1 compatibility.
  deprecatedFirstTimestamp Time First seen, for core/v1 compatibility.
  deprecatedLastTimestamp Time Last seen, for core/v1 compatibility.
  deprecatedCount int32 Count, for core/v1 compatibility.
EventSeries: A series of recurring events.
  count int32! Occurrences in the series.
  lastObservedTime MicroTime! When the last one was seen.
)";
}

}  // namespace berth::k8s::kinds

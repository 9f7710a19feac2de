// Static pod identity as the kubelet derives it for pods read from files.
#pragma once

#include <string>

#include "api/k8s/pod.h"

namespace berth::k8s {

// The UID of a static pod: 32 lowercase hex digits of the MD5 of the pod's
// canonical JSON encoding (PodToJson with metadata.uid cleared, object keys in
// sorted order, no whitespace), followed by "host:<node_name>" and
// "file:<source>", as the kubelet hashes the decoded pod and then its node and
// source. The same content on the same node from the same source always gives
// the same UID; any change to the pod, the node or the source gives another.
// (The kubelet hashes its Go object with a deep printer, so the digits differ
// from a real kubelet's; the properties are the same.) Callers that honour a
// uid set in the manifest, as the kubelet does, check metadata.uid first.
std::string StaticPodUid(const Pod& pod, const std::string& node_name, const std::string& source);

// "<name>-<node_name>", the node name lowercased as the kubelet does.
std::string StaticPodName(const std::string& name, const std::string& node_name);

}  // namespace berth::k8s

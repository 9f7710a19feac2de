// Endpoints and EndpointSlices for a Service from its pods, as the
// endpoints and endpointslice controllers of kube-controller-manager build
// them: pods matching spec.selector in the Service's namespace, with an IP
// and not finished; each Service port's targetPort resolved per pod (a
// number, or a container port's name, which may differ between pods); ready
// pods as addresses, others as notReadyAddresses (all ready with
// publishNotReadyAddresses); terminating pods left out of Endpoints and
// marked terminating in slices.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace berth::controllers {

// Whether the Service gets endpoints from a selector at all (a Service
// without one has its Endpoints managed by hand).
bool ServiceHasSelector(const nlohmann::json& service);

// core/v1 Endpoints named as the Service. Errors name the bad field.
absl::StatusOr<nlohmann::json> EndpointsFor(const nlohmann::json& service, const std::vector<nlohmann::json>& pods);

// discovery.k8s.io/v1 EndpointSlices (IPv4), at most `max_per_slice`
// endpoints each (100 by default, as kube), named <service>-<n>, labelled
// kubernetes.io/service-name and managed-by endpointslice-controller.k8s.io.
absl::StatusOr<std::vector<nlohmann::json>> EndpointSlicesFor(const nlohmann::json& service,
                                                             const std::vector<nlohmann::json>& pods,
                                                             size_t max_per_slice = 100);

}  // namespace berth::controllers

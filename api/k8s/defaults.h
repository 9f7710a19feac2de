// The API server's defaulting for a Pod (SetDefaults_Pod, _PodSpec, _Container,
// _ContainerPort, _Probe, _HTTPGetAction, _Volume, ...), applied in place.
#pragma once

#include <string>

#include "api/k8s/pod.h"

namespace berth::k8s {

void SetDefaultsPod(Pod* pod);
void SetDefaultsContainer(Container* c);
void SetDefaultsProbe(Probe* p);

// "Always" when the image has tag "latest" or neither tag nor digest, else
// "IfNotPresent" (the API's rule for an empty imagePullPolicy).
std::string DefaultImagePullPolicy(const std::string& image);

}  // namespace berth::k8s

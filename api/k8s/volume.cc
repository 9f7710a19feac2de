#include "api/k8s/volume.h"

namespace berth::k8s {

int Volume::SourceCount() const {
  return (hostPath ? 1 : 0) + (emptyDir ? 1 : 0) + (configMap ? 1 : 0) + (secret ? 1 : 0) +
         (projected ? 1 : 0) + static_cast<int>(otherSources.fields.size());
}

}  // namespace berth::k8s

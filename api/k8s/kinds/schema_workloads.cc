// apps/v1 and batch/v1 kinds (format: schema.h).
#include "api/k8s/kinds/schema_text.h"

namespace berth::k8s::kinds {

std::string_view SchemaTextWorkloads() {
  return R"(
package io.k8s.api.apps.v1
Deployment: @kind Declarative updates for pods through ReplicaSets.
  spec DeploymentSpec Desired state of the deployment.
  status DeploymentStatus Most recently observed state.
DeploymentSpec: Desired state of a deployment.
  replicas int32 Number of desired pods; defaults to 1.
  selector LabelSelector! Pods this deployment manages; must match the template's labels. Immutable.
  template PodTemplateSpec! The pods to create.
  strategy DeploymentStrategy @retainKeys How old pods are replaced by new ones.
  minReadySeconds int32 Seconds a new pod must be ready before it counts as available.
  revisionHistoryLimit int32 Old ReplicaSets kept for rollback; defaults to 10.
  paused boolean Stop rolling out changes of the template.
  progressDeadlineSeconds int32 Seconds without progress before the rollout is reported failed; defaults to 600.
DeploymentStrategy: How a deployment replaces pods.
  type string Recreate or RollingUpdate; defaults to RollingUpdate.
  rollingUpdate RollingUpdateDeployment Rolling update parameters.
RollingUpdateDeployment: Rolling update parameters of a deployment.
  maxUnavailable IntOrString Pods (number or percentage) that may be unavailable during the update; defaults to 25%.
  maxSurge IntOrString Pods (number or percentage) created above the desired count; defaults to 25%.
DeploymentStatus: Observed state of a deployment.
  observedGeneration int64 Generation observed by the controller.
  replicas int32 Pods targeted by the deployment.
  updatedReplicas int32 Pods with the current template.
  readyReplicas int32 Pods that are ready.
  availableReplicas int32 Pods ready for at least minReadySeconds.
  unavailableReplicas int32 Pods still needed to reach the desired count.
  terminatingReplicas int32 Pods that are terminating.
  conditions []DeploymentCondition @merge=type Available, Progressing, ReplicaFailure.
  collisionCount int32 Count of hash collisions for the template.
DeploymentCondition: One condition of a deployment.
  type string! Condition type.
  status string! True, False or Unknown.
  lastUpdateTime Time When the condition was last updated.
  lastTransitionTime Time When the status last changed.
  reason string CamelCase reason.
  message string Human-readable details.
ReplicaSet: @kind Keeps a number of identical pods running.
  spec ReplicaSetSpec Desired state of the replica set.
  status ReplicaSetStatus Most recently observed state.
ReplicaSetSpec: Desired state of a replica set.
  replicas int32 Number of desired pods; defaults to 1.
  minReadySeconds int32 Seconds a new pod must be ready before it counts as available.
  selector LabelSelector! Pods this replica set manages; must match the template's labels.
  template PodTemplateSpec The pods to create.
ReplicaSetStatus: Observed state of a replica set.
  replicas int32! Pods currently matched.
  fullyLabeledReplicas int32 Pods whose labels match the template's.
  readyReplicas int32 Pods that are ready.
  availableReplicas int32 Pods ready for at least minReadySeconds.
  terminatingReplicas int32 Pods that are terminating.
  observedGeneration int64 Generation observed by the controller.
  conditions []ReplicaSetCondition @merge=type Conditions of the replica set.
ReplicaSetCondition: One condition of a replica set.
  type string! Condition type.
  status string! True, False or Unknown.
  lastTransitionTime Time When the status last changed.
  reason string CamelCase reason.
  message string Human-readable details.
DaemonSet: @kind Runs one copy of a pod on every eligible node.
  spec DaemonSetSpec Desired state of the daemon set.
  status DaemonSetStatus Most recently observed state.
DaemonSetSpec: Desired state of a daemon set.
  selector LabelSelector! Pods this daemon set manages; must match the template's labels. Immutable.
  template PodTemplateSpec! The pod to run on each node.
  updateStrategy DaemonSetUpdateStrategy How pods are replaced after a template change.
  minReadySeconds int32 Seconds a new pod must be ready before it counts as available.
  revisionHistoryLimit int32 Old revisions kept for rollback; defaults to 10.
DaemonSetUpdateStrategy: How a daemon set replaces pods.
  type string RollingUpdate or OnDelete; defaults to RollingUpdate.
  rollingUpdate RollingUpdateDaemonSet Rolling update parameters.
RollingUpdateDaemonSet: Rolling update parameters of a daemon set.
  maxUnavailable IntOrString Nodes (number or percentage) whose pod may be unavailable; defaults to 1.
  maxSurge IntOrString Nodes (number or percentage) that may run an extra pod during the update; defaults to 0.
DaemonSetStatus: Observed state of a daemon set.
  currentNumberScheduled int32! Nodes running the pod that should.
  numberMisscheduled int32! Nodes running the pod that should not.
  desiredNumberScheduled int32! Nodes that should run the pod.
  numberReady int32! Nodes whose pod is ready.
  observedGeneration int64 Generation observed by the controller.
  updatedNumberScheduled int32 Nodes running the current template.
  numberAvailable int32 Nodes whose pod is available.
  numberUnavailable int32 Nodes whose pod is not available.
  collisionCount int32 Count of hash collisions for the template.
  conditions []DaemonSetCondition @merge=type Conditions of the daemon set.
DaemonSetCondition: One condition of a daemon set.
  type string! Condition type.
  status string! True, False or Unknown.
  lastTransitionTime Time When the status last changed.
  reason string CamelCase reason.
  message string Human-readable details.
StatefulSet: @kind Pods with stable identities and storage, created and updated in order.
  spec StatefulSetSpec Desired state of the stateful set.
  status StatefulSetStatus Most recently observed state.
StatefulSetSpec: Desired state of a stateful set.
  replicas int32 Number of desired pods; defaults to 1.
  selector LabelSelector! Pods this stateful set manages; must match the template's labels. Immutable.
  template PodTemplateSpec! The pods to create; pod N is named <set>-N.
  volumeClaimTemplates []object Claims each pod gets a copy of.
  serviceName string Headless service that gives the pods their DNS names.
  podManagementPolicy string OrderedReady or Parallel; defaults to OrderedReady.
  updateStrategy StatefulSetUpdateStrategy How pods are replaced after a template change.
  revisionHistoryLimit int32 Old revisions kept; defaults to 10.
  minReadySeconds int32 Seconds a new pod must be ready before it counts as available.
  persistentVolumeClaimRetentionPolicy StatefulSetPersistentVolumeClaimRetentionPolicy What happens to claims on scale-down and deletion.
  ordinals StatefulSetOrdinals Numbering of the pods.
StatefulSetUpdateStrategy: How a stateful set replaces pods.
  type string RollingUpdate or OnDelete; defaults to RollingUpdate.
  rollingUpdate RollingUpdateStatefulSetStrategy Rolling update parameters.
RollingUpdateStatefulSetStrategy: Rolling update parameters of a stateful set.
  partition int32 Only pods with an ordinal at least this are updated; defaults to 0.
  maxUnavailable IntOrString Pods that may be unavailable during the update.
StatefulSetPersistentVolumeClaimRetentionPolicy: Claim retention of a stateful set.
  whenDeleted string Retain or Delete; defaults to Retain.
  whenScaled string Retain or Delete; defaults to Retain.
StatefulSetOrdinals: Numbering of a stateful set's pods.
  start int32 First ordinal; defaults to 0.
StatefulSetStatus: Observed state of a stateful set.
  observedGeneration int64 Generation observed by the controller.
  replicas int32! Pods created.
  readyReplicas int32 Pods that are ready.
  currentReplicas int32 Pods at currentRevision.
  updatedReplicas int32 Pods at updateRevision.
  currentRevision string Revision of the current pods.
  updateRevision string Revision being rolled out.
  collisionCount int32 Count of hash collisions for the template.
  conditions []StatefulSetCondition @merge=type Conditions of the stateful set.
  availableReplicas int32 Pods ready for at least minReadySeconds.
StatefulSetCondition: One condition of a stateful set.
  type string! Condition type.
  status string! True, False or Unknown.
  lastTransitionTime Time When the status last changed.
  reason string CamelCase reason.
  message string Human-readable details.

package io.k8s.api.autoscaling.v1
Scale: @kind The scale subresource of a workload.
  spec ScaleSpec Desired scale.
  status ScaleStatus Current scale.
ScaleSpec: Desired scale.
  replicas int32 Desired number of pods.
ScaleStatus: Current scale.
  replicas int32! Observed number of pods.
  selector string Label selector of the pods, as a string.

package io.k8s.api.batch.v1
Job: @kind Runs pods until a number of them complete successfully.
  spec JobSpec Desired state of the job.
  status JobStatus Most recently observed state.
JobSpec: Desired state of a job.
  parallelism int32 Pods running at once; defaults to 1.
  completions int32 Successful pods needed; defaults to 1 (unset when parallelism is set without it).
  activeDeadlineSeconds int64 Seconds the job may run before it is failed.
  podFailurePolicy object How pod failures count against the backoff limit.
  successPolicy object When the job is declared succeeded.
  backoffLimit int32 Retries before the job is failed; defaults to 6.
  backoffLimitPerIndex int32 Retries per index for Indexed jobs.
  maxFailedIndexes int32 Failed indexes before the job is failed.
  selector LabelSelector Pods of the job; generated unless manualSelector.
  manualSelector boolean Use the given selector instead of generating one.
  template PodTemplateSpec! The pods to run; restartPolicy must be Never or OnFailure.
  ttlSecondsAfterFinished int32 Seconds after finishing before the job is deleted.
  completionMode string NonIndexed or Indexed; defaults to NonIndexed.
  suspend boolean Do not create pods while true.
  podReplacementPolicy string TerminatingOrFailed or Failed.
  managedBy string Controller that manages the job.
JobStatus: Observed state of a job.
  conditions []JobCondition @merge=type Complete, Failed, Suspended, ...
  startTime Time When the job controller started the job.
  completionTime Time When the job completed.
  active int32 Pods running.
  succeeded int32 Pods that succeeded.
  failed int32 Pods that failed.
  terminating int32 Pods that are terminating.
  completedIndexes string Completed indexes of an Indexed job.
  failedIndexes string Failed indexes.
  uncountedTerminatedPods object Finished pods not yet counted.
  ready int32 Pods that are ready.
JobCondition: One condition of a job.
  type string! Condition type.
  status string! True, False or Unknown.
  lastProbeTime Time When the condition was last probed.
  lastTransitionTime Time When the status last changed.
  reason string CamelCase reason.
  message string Human-readable details.
)";
}

}  // namespace berth::k8s::kinds

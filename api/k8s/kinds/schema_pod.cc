// core/v1 Pod and everything a pod template holds (format: schema.h).
// Descriptions are short summaries written for berth.
#include "api/k8s/kinds/schema_text.h"

namespace berth::k8s::kinds {

std::string_view SchemaTextPod() {
  return R"(
package io.k8s.api.core.v1
Pod: @kind A group of containers scheduled together onto one node, sharing network and volumes.
  spec PodSpec Desired behaviour of the pod.
  status PodStatus Most recently observed status of the pod; written by the node agent.
PodTemplateSpec: The pod that a workload controller creates copies of.
  metadata ObjectMeta Metadata for the created pods (labels must match the workload's selector).
  spec PodSpec Desired behaviour of the created pods.
Binding: @kind Assigns a pod to a node (the pods/binding subresource).
  target ObjectReference! The node to bind to.
ObjectReference: A reference to another object.
  kind string Kind of the referent.
  namespace string Namespace of the referent.
  name string Name of the referent.
  uid string UID of the referent.
  apiVersion string API version of the referent.
  resourceVersion string Resource version the reference was made at.
  fieldPath string A part of the referent, such as spec.containers{name}.
LocalObjectReference: A reference to an object in the same namespace.
  name string Name of the referent.
PodSpec: Desired behaviour of a pod.
  volumes []Volume @merge=name @retainKeys Volumes the pod's containers can mount.
  initContainers []Container @merge=name Containers run to completion, in order, before the app containers start.
  containers []Container! @merge=name The pod's application containers; at least one.
  ephemeralContainers []object @merge=name Debugging containers added through the ephemeralcontainers subresource.
  restartPolicy string Always, OnFailure or Never; defaults to Always.
  terminationGracePeriodSeconds int64 Seconds between the stop signal and a forced kill; defaults to 30.
  activeDeadlineSeconds int64 Seconds the pod may run before it is failed.
  dnsPolicy string ClusterFirst, ClusterFirstWithHostNet, Default or None; defaults to ClusterFirst.
  nodeSelector map[]string @map=atomic Labels a node must have to run the pod.
  serviceAccountName string Service account the pod runs as.
  serviceAccount string Deprecated alias of serviceAccountName.
  automountServiceAccountToken boolean Whether a service account token is mounted.
  nodeName string Node the pod is bound to; set by the scheduler or by the creator.
  hostNetwork boolean Use the node's network namespace.
  hostPID boolean Use the node's PID namespace.
  hostIPC boolean Use the node's IPC namespace.
  shareProcessNamespace boolean One PID namespace for all containers of the pod.
  securityContext PodSecurityContext Pod-level security attributes.
  imagePullSecrets []LocalObjectReference @merge=name Secrets used to pull the images.
  hostname string Pod hostname; defaults to the pod name.
  subdomain string Subdomain, making the FQDN hostname.subdomain.namespace.svc.cluster-domain.
  affinity Affinity Scheduling constraints relative to nodes and other pods.
  schedulerName string Scheduler that places the pod; defaults to default-scheduler.
  tolerations []Toleration Taints the pod tolerates.
  hostAliases []HostAlias @merge=ip Entries added to the pod's /etc/hosts.
  priorityClassName string Priority class of the pod.
  priority int32 Priority value resolved from the priority class.
  dnsConfig PodDNSConfig DNS settings merged with those of dnsPolicy.
  readinessGates []PodReadinessGate Extra conditions that must be True for the pod to be ready.
  runtimeClassName string RuntimeClass used to run the pod.
  enableServiceLinks boolean Inject service environment variables; defaults to true.
  preemptionPolicy string Never or PreemptLowerPriority.
  overhead map[]Quantity Resources the pod's sandbox uses besides its containers.
  topologySpreadConstraints []TopologySpreadConstraint @merge=topologyKey @keys=topologyKey,whenUnsatisfiable How pods spread across topology domains.
  setHostnameAsFQDN boolean Set the hostname to the pod's FQDN.
  os PodOS Operating system the pod's containers need.
  hostUsers boolean Use the node's user namespace; defaults to true.
  schedulingGates []PodSchedulingGate @merge=name Gates that hold the pod back from scheduling while present.
  resourceClaims []PodResourceClaim @merge=name @retainKeys Dynamic resource claims the pod uses.
  resources ResourceRequirements Pod-level resource requests and limits.
Container: A single application container that runs within a pod.
  name string! Name of the container, a DNS label unique within the pod.
  image string Container image reference.
  command []string Entrypoint, replacing the image's ENTRYPOINT.
  args []string Arguments, replacing the image's CMD.
  workingDir string Working directory; defaults to the image's.
  ports []ContainerPort @merge=containerPort @keys=containerPort,protocol Ports the container exposes (informational).
  envFrom []EnvFromSource Sources of environment variables (all keys of a ConfigMap or Secret).
  env []EnvVar @merge=name Environment variables.
  resources ResourceRequirements Compute resources the container needs.
  resizePolicy []ContainerResizePolicy Restart requirements when resources are resized.
  restartPolicy string Always for an init container that keeps running beside the app (a sidecar).
  volumeMounts []VolumeMount @merge=mountPath Volumes mounted into the container's filesystem.
  volumeDevices []VolumeDevice @merge=devicePath Block devices the container uses.
  livenessProbe Probe The container is restarted when this probe fails.
  readinessProbe Probe The container receives traffic only while this probe succeeds.
  startupProbe Probe The other probes wait until this one succeeds.
  lifecycle Lifecycle Actions run after start and before stop.
  terminationMessagePath string File whose contents become the termination message; defaults to /dev/termination-log.
  terminationMessagePolicy string File or FallbackToLogsOnError; defaults to File.
  imagePullPolicy string Always, Never or IfNotPresent; defaults from the image tag.
  securityContext SecurityContext Container security attributes.
  stdin boolean Allocate a stdin buffer for attach.
  stdinOnce boolean Close stdin after the first attach ends.
  tty boolean Allocate a TTY.
ContainerPort: A network port in a single container.
  name string IANA_SVC_NAME-style name that services can refer to.
  hostPort int32 Port on the node's address to expose the container port on.
  containerPort int32! Port number on the pod's address.
  protocol string TCP, UDP or SCTP; defaults to TCP.
  hostIP string Node address to bind the host port to.
EnvVar: An environment variable.
  name string! Variable name.
  value string Value, with $(VAR) references expanded.
  valueFrom EnvVarSource Source of the value when value is empty.
EnvVarSource: Where an environment variable's value comes from.
  fieldRef ObjectFieldSelector A field of the pod.
  resourceFieldRef ResourceFieldSelector A resource limit or request of a container.
  configMapKeyRef ConfigMapKeySelector A key of a ConfigMap.
  secretKeyRef SecretKeySelector A key of a Secret.
ObjectFieldSelector: Selects a field of the pod.
  apiVersion string Version of the schema fieldPath is written in; defaults to v1.
  fieldPath string! Path of the field, such as metadata.name.
ResourceFieldSelector: Selects a container resource.
  containerName string Container name; required for volumes.
  resource string! limits.cpu, requests.memory, ...
  divisor Quantity Unit the value is expressed in; defaults to 1.
ConfigMapKeySelector: Selects a key of a ConfigMap.
  name string Name of the ConfigMap.
  key string! The key.
  optional boolean Whether the ConfigMap or key may be missing.
SecretKeySelector: Selects a key of a Secret.
  name string Name of the Secret.
  key string! The key.
  optional boolean Whether the Secret or key may be missing.
EnvFromSource: All keys of a ConfigMap or Secret as environment variables.
  prefix string Prefix added to every key.
  configMapRef ConfigMapEnvSource The ConfigMap.
  secretRef SecretEnvSource The Secret.
ConfigMapEnvSource: A ConfigMap whose keys become environment variables.
  name string Name of the ConfigMap.
  optional boolean Whether the ConfigMap may be missing.
SecretEnvSource: A Secret whose keys become environment variables.
  name string Name of the Secret.
  optional boolean Whether the Secret may be missing.
ResourceRequirements: Compute resource requests and limits.
  limits map[]Quantity Maximum amount of each resource.
  requests map[]Quantity Amount of each resource reserved for scheduling; defaults to the limits.
  claims []ResourceClaim @list=map @keys=name Dynamic resource claims used by the container.
ResourceClaim: A reference to one of the pod's resource claims.
  name string! Name of an entry in the pod's resourceClaims.
  request string A request within the claim.
ContainerResizePolicy: What happens when a resource is resized.
  resourceName string! cpu or memory.
  restartPolicy string! NotRequired or RestartContainer.
VolumeMount: A volume mounted into a container.
  name string! Name of the pod volume.
  readOnly boolean Mount read-only.
  recursiveReadOnly string Disabled, IfPossible or Enabled.
  mountPath string! Path inside the container.
  subPath string Path within the volume to mount instead of its root.
  mountPropagation string None, HostToContainer or Bidirectional.
  subPathExpr string subPath with $(VAR) references expanded.
VolumeDevice: A raw block volume mapped into a container.
  name string! Name of the persistent volume claim volume.
  devicePath string! Path of the device inside the container.
Probe: A health check run against a container.
  exec ExecAction Run a command; exit status 0 is success.
  httpGet HTTPGetAction HTTP GET; a status in 200-399 is success.
  tcpSocket TCPSocketAction Open a TCP connection.
  grpc GRPCAction gRPC health check.
  initialDelaySeconds int32 Seconds after start before the first probe.
  timeoutSeconds int32 Seconds before a probe times out; defaults to 1.
  periodSeconds int32 Seconds between probes; defaults to 10.
  successThreshold int32 Consecutive successes to count as success; defaults to 1.
  failureThreshold int32 Consecutive failures to count as failure; defaults to 3.
  terminationGracePeriodSeconds int64 Grace period used when a failed probe kills the container.
ExecAction: A command run inside the container.
  command []string Command line; not run in a shell.
HTTPGetAction: An HTTP GET request.
  path string Request path.
  port IntOrString! Port number or name.
  host string Host to connect to; defaults to the pod IP.
  scheme string HTTP or HTTPS; defaults to HTTP.
  httpHeaders []HTTPHeader Extra request headers.
HTTPHeader: An HTTP header.
  name string! Header name.
  value string! Header value.
TCPSocketAction: A TCP connection attempt.
  port IntOrString! Port number or name.
  host string Host to connect to; defaults to the pod IP.
GRPCAction: A gRPC health check.
  port int32! Port number.
  service string Service name sent in the health check request.
Lifecycle: Actions the node agent runs on container lifecycle events.
  postStart LifecycleHandler Run right after the container is created.
  preStop LifecycleHandler Run before the container is stopped.
  stopSignal string Signal used to stop the container.
LifecycleHandler: One lifecycle action.
  exec ExecAction Run a command.
  httpGet HTTPGetAction Send an HTTP GET.
  tcpSocket TCPSocketAction Deprecated; kept for compatibility.
  sleep SleepAction Sleep for a while.
SleepAction: A pause.
  seconds int64! Seconds to sleep.
SecurityContext: Security settings of a container; they override the pod's.
  capabilities Capabilities Capabilities to add and drop.
  privileged boolean Run privileged.
  seLinuxOptions SELinuxOptions SELinux context.
  windowsOptions WindowsSecurityContextOptions Windows-specific settings.
  runAsUser int64 UID to run the entrypoint as.
  runAsGroup int64 GID to run the entrypoint as.
  runAsNonRoot boolean Refuse to start a container that would run as UID 0.
  readOnlyRootFilesystem boolean Mount the root filesystem read-only.
  allowPrivilegeEscalation boolean Whether a process may gain more privileges than its parent.
  procMount string Default or Unmasked.
  seccompProfile SeccompProfile Seccomp profile.
  appArmorProfile AppArmorProfile AppArmor profile.
Capabilities: Linux capabilities to add and drop.
  add []string Capabilities to add.
  drop []string Capabilities to drop.
SELinuxOptions: An SELinux label.
  user string SELinux user.
  role string SELinux role.
  type string SELinux type.
  level string SELinux level.
WindowsSecurityContextOptions: Windows-specific security settings.
  gmsaCredentialSpecName string Name of the GMSA credential spec.
  gmsaCredentialSpec string Contents of the GMSA credential spec.
  runAsUserName string User name to run as.
  hostProcess boolean Run as a host process container.
SeccompProfile: A seccomp profile.
  type string! RuntimeDefault, Unconfined or Localhost.
  localhostProfile string Path under the node's seccomp directory, for Localhost.
AppArmorProfile: An AppArmor profile.
  type string! RuntimeDefault, Unconfined or Localhost.
  localhostProfile string Profile name loaded on the node, for Localhost.
PodSecurityContext: Security settings applied to every container of the pod.
  seLinuxOptions SELinuxOptions SELinux context.
  windowsOptions WindowsSecurityContextOptions Windows-specific settings.
  runAsUser int64 UID to run the entrypoints as.
  runAsGroup int64 GID to run the entrypoints as.
  runAsNonRoot boolean Refuse to start containers that would run as UID 0.
  supplementalGroups []int64 Extra groups for the first process of each container.
  supplementalGroupsPolicy string Merge or Strict.
  fsGroup int64 Group that owns the volumes.
  sysctls []Sysctl Namespaced sysctls set for the pod.
  fsGroupChangePolicy string OnRootMismatch or Always.
  seccompProfile SeccompProfile Seccomp profile.
  appArmorProfile AppArmorProfile AppArmor profile.
  seLinuxChangePolicy string MountOption or Recursive.
Sysctl: A kernel parameter.
  name string! Parameter name.
  value string! Parameter value.
Affinity: Scheduling constraints.
  nodeAffinity NodeAffinity Constraints on nodes.
  podAffinity PodAffinity Run near pods matching these terms.
  podAntiAffinity PodAntiAffinity Run away from pods matching these terms.
NodeAffinity: Node affinity rules.
  requiredDuringSchedulingIgnoredDuringExecution NodeSelector Rules a node must satisfy.
  preferredDuringSchedulingIgnoredDuringExecution []PreferredSchedulingTerm Weighted preferences.
NodeSelector: A union of node selector terms.
  nodeSelectorTerms []NodeSelectorTerm! The terms, ORed.
NodeSelectorTerm: Node requirements, ANDed.
  matchExpressions []NodeSelectorRequirement Requirements on node labels.
  matchFields []NodeSelectorRequirement Requirements on node fields.
NodeSelectorRequirement: One node requirement.
  key string! Label or field key.
  operator string! In, NotIn, Exists, DoesNotExist, Gt or Lt.
  values []string Values for the operator.
PreferredSchedulingTerm: A weighted node preference.
  weight int32! Weight, 1-100.
  preference NodeSelectorTerm! The node selector term.
PodAffinity: Inter-pod affinity rules.
  requiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm Terms that must hold.
  preferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm Weighted preferences.
PodAntiAffinity: Inter-pod anti-affinity rules.
  requiredDuringSchedulingIgnoredDuringExecution []PodAffinityTerm Terms that must hold.
  preferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm Weighted preferences.
PodAffinityTerm: Pods matching the selector in the namespaces, within a topology domain.
  labelSelector LabelSelector The pods.
  namespaces []string Namespaces to look in; defaults to the pod's.
  topologyKey string! Node label that defines the domain.
  namespaceSelector LabelSelector Namespaces to look in, by label.
  matchLabelKeys []string Label keys whose values are taken from the incoming pod.
  mismatchLabelKeys []string Label keys whose values must differ from the incoming pod's.
WeightedPodAffinityTerm: A weighted pod affinity term.
  weight int32! Weight, 1-100.
  podAffinityTerm PodAffinityTerm! The term.
Toleration: Lets a pod schedule onto nodes with a matching taint.
  key string Taint key; empty with Exists matches every key.
  operator string Exists or Equal; defaults to Equal.
  value string Taint value for Equal.
  effect string NoSchedule, PreferNoSchedule or NoExecute; empty matches all.
  tolerationSeconds int64 How long a NoExecute taint is tolerated.
HostAlias: An /etc/hosts entry.
  ip string! IP address.
  hostnames []string Host names for the address.
PodDNSConfig: DNS settings of a pod.
  nameservers []string DNS server addresses.
  searches []string Search domains.
  options []PodDNSConfigOption resolver options.
PodDNSConfigOption: A resolver option.
  name string Option name.
  value string Option value.
PodReadinessGate: A condition that must be True for the pod to be ready.
  conditionType string! Condition type in the pod's conditions.
TopologySpreadConstraint: How matching pods spread over a topology.
  maxSkew int32! Largest allowed difference in matching pods between domains.
  topologyKey string! Node label defining the domains.
  whenUnsatisfiable string! DoNotSchedule or ScheduleAnyway.
  labelSelector LabelSelector Pods counted.
  minDomains int32 Minimum number of eligible domains.
  nodeAffinityPolicy string Honor or Ignore.
  nodeTaintsPolicy string Honor or Ignore.
  matchLabelKeys []string Label keys whose values are taken from the incoming pod.
PodOS: The operating system of a pod.
  name string! linux or windows.
PodSchedulingGate: A gate holding a pod back from scheduling.
  name string! Gate name.
PodResourceClaim: A dynamic resource claim used by a pod.
  name string! Name within the pod.
  resourceClaimName string An existing ResourceClaim.
  resourceClaimTemplateName string A template a claim is made from.
Volume: A named volume that the pod's containers can mount; set exactly one source.
  name string! Volume name, a DNS label unique within the pod.
  hostPath HostPathVolumeSource A file or directory on the node.
  emptyDir EmptyDirVolumeSource A directory that lives as long as the pod.
  secret SecretVolumeSource The keys of a Secret as files.
  configMap ConfigMapVolumeSource The keys of a ConfigMap as files.
  persistentVolumeClaim PersistentVolumeClaimVolumeSource A persistent volume claim.
  projected ProjectedVolumeSource Several sources in one directory.
  downwardAPI DownwardAPIVolumeSource Pod fields as files.
  nfs NFSVolumeSource An NFS export.
  csi CSIVolumeSource An inline CSI volume.
  ephemeral object A volume provisioned for the pod's lifetime.
  image ImageVolumeSource An OCI image's contents, read-only.
  gcePersistentDisk object Deprecated in-tree volume source.
  awsElasticBlockStore object Deprecated in-tree volume source.
  gitRepo object Deprecated in-tree volume source.
  iscsi object In-tree iSCSI volume source.
  glusterfs object Deprecated in-tree volume source.
  rbd object Deprecated in-tree volume source.
  flexVolume object Deprecated in-tree volume source.
  cinder object Deprecated in-tree volume source.
  cephfs object Deprecated in-tree volume source.
  flocker object Deprecated in-tree volume source.
  fc object In-tree Fibre Channel volume source.
  azureFile object Deprecated in-tree volume source.
  azureDisk object Deprecated in-tree volume source.
  vsphereVolume object Deprecated in-tree volume source.
  quobyte object Deprecated in-tree volume source.
  photonPersistentDisk object Deprecated in-tree volume source.
  portworxVolume object Deprecated in-tree volume source.
  scaleIO object Deprecated in-tree volume source.
  storageos object Deprecated in-tree volume source.
HostPathVolumeSource: A path on the node.
  path string! Path on the node.
  type string "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice.
EmptyDirVolumeSource: A scratch directory.
  medium string "" (node disk) or Memory (tmpfs).
  sizeLimit Quantity Maximum size.
SecretVolumeSource: A Secret as files.
  secretName string Name of the Secret.
  items []KeyToPath Keys to project and their paths; default all keys.
  defaultMode int32 File mode bits; defaults to 0644.
  optional boolean Whether the Secret may be missing.
ConfigMapVolumeSource: A ConfigMap as files.
  name string Name of the ConfigMap.
  items []KeyToPath Keys to project and their paths; default all keys.
  defaultMode int32 File mode bits; defaults to 0644.
  optional boolean Whether the ConfigMap may be missing.
KeyToPath: A key projected to a relative path.
  key string! The key.
  path string! Relative path of the file.
  mode int32 File mode bits.
PersistentVolumeClaimVolumeSource: A reference to a persistent volume claim.
  claimName string! Name of the claim in the pod's namespace.
  readOnly boolean Mount read-only.
ProjectedVolumeSource: Several volume sources in one directory.
  sources []VolumeProjection The sources.
  defaultMode int32 File mode bits; defaults to 0644.
VolumeProjection: One projected source.
  secret SecretProjection A Secret.
  configMap ConfigMapProjection A ConfigMap.
  downwardAPI DownwardAPIProjection Pod fields.
  serviceAccountToken ServiceAccountTokenProjection A service account token.
  clusterTrustBundle object A ClusterTrustBundle.
SecretProjection: A Secret in a projected volume.
  name string Name of the Secret.
  items []KeyToPath Keys to project.
  optional boolean Whether the Secret may be missing.
ConfigMapProjection: A ConfigMap in a projected volume.
  name string Name of the ConfigMap.
  items []KeyToPath Keys to project.
  optional boolean Whether the ConfigMap may be missing.
DownwardAPIProjection: Pod fields in a projected volume.
  items []DownwardAPIVolumeFile The files.
DownwardAPIVolumeSource: Pod fields as files.
  items []DownwardAPIVolumeFile The files.
  defaultMode int32 File mode bits; defaults to 0644.
DownwardAPIVolumeFile: One pod field as a file.
  path string! Relative path of the file.
  fieldRef ObjectFieldSelector A pod field.
  resourceFieldRef ResourceFieldSelector A container resource.
  mode int32 File mode bits.
ServiceAccountTokenProjection: A service account token file.
  audience string Intended audience of the token.
  expirationSeconds int64 Requested lifetime; defaults to 1 hour.
  path string! Relative path of the file.
NFSVolumeSource: An NFS export.
  server string! Server host name or address.
  path string! Exported path.
  readOnly boolean Mount read-only.
CSIVolumeSource: An inline CSI volume.
  driver string! CSI driver name.
  readOnly boolean Mount read-only.
  fsType string Filesystem type.
  volumeAttributes map[]string Driver-specific attributes.
  nodePublishSecretRef LocalObjectReference Secret passed to NodePublishVolume.
ImageVolumeSource: An OCI image mounted as a volume.
  reference string Image reference.
  pullPolicy string Always, Never or IfNotPresent.
PodStatus: Observed state of a pod.
  observedGeneration int64 metadata.generation the status was computed from.
  phase string Pending, Running, Succeeded, Failed or Unknown.
  conditions []PodCondition @merge=type Current conditions of the pod.
  message string Why the pod is in this state.
  reason string CamelCase reason for the state, such as Evicted.
  nominatedNodeName string Node the scheduler preempted pods on for this pod.
  hostIP string Primary address of the node.
  hostIPs []HostIP @merge=ip Addresses of the node.
  podIP string Primary address of the pod.
  podIPs []PodIP @merge=ip Addresses of the pod.
  startTime Time When the node agent accepted the pod.
  initContainerStatuses []ContainerStatus Status of each init container.
  containerStatuses []ContainerStatus Status of each app container.
  qosClass string Guaranteed, Burstable or BestEffort.
  ephemeralContainerStatuses []ContainerStatus Status of each ephemeral container.
  resize string Status of a requested resize.
  resourceClaimStatuses []object @merge=name Generated resource claim names.
PodCondition: One condition of a pod.
  type string! PodScheduled, Initialized, ContainersReady, Ready, ...
  observedGeneration int64 metadata.generation the condition was computed from.
  status string! True, False or Unknown.
  lastProbeTime Time When the condition was last probed.
  lastTransitionTime Time When the status last changed.
  reason string CamelCase reason for the last transition.
  message string Human-readable details.
HostIP: An address of the node.
  ip string! The address.
PodIP: An address of the pod.
  ip string! The address.
ContainerStatus: Observed state of one container.
  name string! Container name.
  state ContainerState Current state.
  lastState ContainerState State before the last restart.
  ready boolean! Whether the readiness probe passes.
  restartCount int32! Number of restarts.
  image string! Image the container runs.
  imageID string! Resolved image id.
  containerID string <runtime>://<id>.
  started boolean Whether the startup probe passed.
  allocatedResources map[]Quantity Resources allocated to the container.
  resources ResourceRequirements Resources applied to the running container.
  volumeMounts []object Mounts as observed.
  user object Identities the container runs with.
  allocatedResourcesStatus []object Health of allocated devices.
  stopSignal string Signal used to stop the container.
ContainerState: One of waiting, running or terminated.
  waiting ContainerStateWaiting Not running yet.
  running ContainerStateRunning Running.
  terminated ContainerStateTerminated Exited.
ContainerStateWaiting: A waiting container.
  reason string Why it is waiting, such as ContainerCreating or CrashLoopBackOff.
  message string Details.
ContainerStateRunning: A running container.
  startedAt Time When it started.
ContainerStateTerminated: An exited container.
  exitCode int32! Exit status.
  signal int32 Signal that ended it.
  reason string Why it exited, such as Completed or OOMKilled.
  message string Details.
  startedAt Time When it started.
  finishedAt Time When it exited.
  containerID string <runtime>://<id>.
)";
}

}  // namespace berth::k8s::kinds

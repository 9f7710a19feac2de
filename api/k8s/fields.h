// The wire field list of every object-model struct, in the API's order.
// VisitFields(obj, f) calls f(wire_name, member, flags) once per field; the
// JSON codec (codec.h) is written once over it. kAlways: emitted even when empty
// (Go fields without omitempty). kInline: the member's own fields sit in this object.
// kRest: keys no other field claimed (RawFields).
#pragma once

#include "api/k8s/pod.h"

namespace berth::k8s {

enum FieldFlags : int { kOmitEmpty = 0, kAlways = 1, kInline = 2, kRest = 4 };

template <class F>
void VisitFields(TypeMeta& o, F&& f) {
  f("apiVersion", o.apiVersion, kOmitEmpty);
  f("kind", o.kind, kOmitEmpty);
}

template <class F>
void VisitFields(OwnerReference& o, F&& f) {
  f("apiVersion", o.apiVersion, kOmitEmpty);
  f("kind", o.kind, kOmitEmpty);
  f("name", o.name, kOmitEmpty);
  f("uid", o.uid, kOmitEmpty);
  f("controller", o.controller, kOmitEmpty);
  f("blockOwnerDeletion", o.blockOwnerDeletion, kOmitEmpty);
}

template <class F>
void VisitFields(ObjectMeta& o, F&& f) {
  f("name", o.name, kOmitEmpty);
  f("generateName", o.generateName, kOmitEmpty);
  f("namespace", o.namespace_, kOmitEmpty);
  f("uid", o.uid, kOmitEmpty);
  f("resourceVersion", o.resourceVersion, kOmitEmpty);
  f("generation", o.generation, kOmitEmpty);
  f("creationTimestamp", o.creationTimestamp, kOmitEmpty);
  f("deletionTimestamp", o.deletionTimestamp, kOmitEmpty);
  f("deletionGracePeriodSeconds", o.deletionGracePeriodSeconds, kOmitEmpty);
  f("labels", o.labels, kOmitEmpty);
  f("annotations", o.annotations, kOmitEmpty);
  f("ownerReferences", o.ownerReferences, kOmitEmpty);
  f("finalizers", o.finalizers, kOmitEmpty);
  f("managedFields", o.managedFields, kOmitEmpty);
}

template <class F>
void VisitFields(ContainerPort& o, F&& f) {
  f("name", o.name, kOmitEmpty);
  f("hostPort", o.hostPort, kOmitEmpty);
  f("containerPort", o.containerPort, kOmitEmpty);
  f("protocol", o.protocol, kOmitEmpty);
  f("hostIP", o.hostIP, kOmitEmpty);
}

template <class F>
void VisitFields(EnvVar& o, F&& f) {
  f("name", o.name, kAlways);
  f("value", o.value, kOmitEmpty);
  f("valueFrom", o.valueFrom, kOmitEmpty);
}

template <class F>
void VisitFields(EnvFromSource& o, F&& f) {
  f("prefix", o.prefix, kOmitEmpty);
  f("configMapRef", o.configMapRef, kOmitEmpty);
  f("secretRef", o.secretRef, kOmitEmpty);
}

template <class F>
void VisitFields(ResourceRequirements& o, F&& f) {
  f("limits", o.limits, kOmitEmpty);
  f("requests", o.requests, kOmitEmpty);
  f("claims", o.claims, kOmitEmpty);
}

template <class F>
void VisitFields(VolumeMount& o, F&& f) {
  f("name", o.name, kAlways);
  f("readOnly", o.readOnly, kOmitEmpty);
  f("mountPath", o.mountPath, kAlways);
  f("subPath", o.subPath, kOmitEmpty);
  f("mountPropagation", o.mountPropagation, kOmitEmpty);
  f("recursiveReadOnly", o.recursiveReadOnly, kOmitEmpty);
  f("subPathExpr", o.subPathExpr, kOmitEmpty);
}

template <class F>
void VisitFields(VolumeDevice& o, F&& f) {
  f("name", o.name, kAlways);
  f("devicePath", o.devicePath, kAlways);
}

template <class F>
void VisitFields(ExecAction& o, F&& f) {
  f("command", o.command, kOmitEmpty);
}

template <class F>
void VisitFields(HTTPHeader& o, F&& f) {
  f("name", o.name, kAlways);
  f("value", o.value, kAlways);
}

template <class F>
void VisitFields(HTTPGetAction& o, F&& f) {
  f("path", o.path, kOmitEmpty);
  f("port", o.port, kAlways);
  f("host", o.host, kOmitEmpty);
  f("scheme", o.scheme, kOmitEmpty);
  f("httpHeaders", o.httpHeaders, kOmitEmpty);
}

template <class F>
void VisitFields(TCPSocketAction& o, F&& f) {
  f("port", o.port, kAlways);
  f("host", o.host, kOmitEmpty);
}

template <class F>
void VisitFields(GRPCAction& o, F&& f) {
  f("port", o.port, kAlways);
  f("service", o.service, kOmitEmpty);
}

template <class F>
void VisitFields(SleepAction& o, F&& f) {
  f("seconds", o.seconds, kAlways);
}

template <class F>
void VisitFields(Probe& o, F&& f) {
  f("exec", o.exec, kOmitEmpty);
  f("httpGet", o.httpGet, kOmitEmpty);
  f("tcpSocket", o.tcpSocket, kOmitEmpty);
  f("grpc", o.grpc, kOmitEmpty);
  f("initialDelaySeconds", o.initialDelaySeconds, kOmitEmpty);
  f("timeoutSeconds", o.timeoutSeconds, kOmitEmpty);
  f("periodSeconds", o.periodSeconds, kOmitEmpty);
  f("successThreshold", o.successThreshold, kOmitEmpty);
  f("failureThreshold", o.failureThreshold, kOmitEmpty);
  f("terminationGracePeriodSeconds", o.terminationGracePeriodSeconds, kOmitEmpty);
}

template <class F>
void VisitFields(LifecycleHandler& o, F&& f) {
  f("exec", o.exec, kOmitEmpty);
  f("httpGet", o.httpGet, kOmitEmpty);
  f("tcpSocket", o.tcpSocket, kOmitEmpty);
  f("sleep", o.sleep, kOmitEmpty);
}

template <class F>
void VisitFields(Lifecycle& o, F&& f) {
  f("postStart", o.postStart, kOmitEmpty);
  f("preStop", o.preStop, kOmitEmpty);
  f("stopSignal", o.stopSignal, kOmitEmpty);
}

template <class F>
void VisitFields(Capabilities& o, F&& f) {
  f("add", o.add, kOmitEmpty);
  f("drop", o.drop, kOmitEmpty);
}

template <class F>
void VisitFields(SeccompProfile& o, F&& f) {
  f("type", o.type, kAlways);
  f("localhostProfile", o.localhostProfile, kOmitEmpty);
}

template <class F>
void VisitFields(SELinuxOptions& o, F&& f) {
  f("user", o.user, kOmitEmpty);
  f("role", o.role, kOmitEmpty);
  f("type", o.type, kOmitEmpty);
  f("level", o.level, kOmitEmpty);
}

template <class F>
void VisitFields(SecurityContext& o, F&& f) {
  f("capabilities", o.capabilities, kOmitEmpty);
  f("privileged", o.privileged, kOmitEmpty);
  f("seLinuxOptions", o.seLinuxOptions, kOmitEmpty);
  f("runAsUser", o.runAsUser, kOmitEmpty);
  f("runAsGroup", o.runAsGroup, kOmitEmpty);
  f("runAsNonRoot", o.runAsNonRoot, kOmitEmpty);
  f("readOnlyRootFilesystem", o.readOnlyRootFilesystem, kOmitEmpty);
  f("allowPrivilegeEscalation", o.allowPrivilegeEscalation, kOmitEmpty);
  f("procMount", o.procMount, kOmitEmpty);
  f("seccompProfile", o.seccompProfile, kOmitEmpty);
  f("windowsOptions", o.windowsOptions, kOmitEmpty);
  f("appArmorProfile", o.appArmorProfile, kOmitEmpty);
}

template <class F>
void VisitFields(Container& o, F&& f) {
  f("name", o.name, kAlways);
  f("image", o.image, kOmitEmpty);
  f("command", o.command, kOmitEmpty);
  f("args", o.args, kOmitEmpty);
  f("workingDir", o.workingDir, kOmitEmpty);
  f("ports", o.ports, kOmitEmpty);
  f("envFrom", o.envFrom, kOmitEmpty);
  f("env", o.env, kOmitEmpty);
  f("resources", o.resources, kAlways);
  f("resizePolicy", o.resizePolicy, kOmitEmpty);
  f("restartPolicy", o.restartPolicy, kOmitEmpty);
  f("volumeMounts", o.volumeMounts, kOmitEmpty);
  f("volumeDevices", o.volumeDevices, kOmitEmpty);
  f("livenessProbe", o.livenessProbe, kOmitEmpty);
  f("readinessProbe", o.readinessProbe, kOmitEmpty);
  f("startupProbe", o.startupProbe, kOmitEmpty);
  f("lifecycle", o.lifecycle, kOmitEmpty);
  f("terminationMessagePath", o.terminationMessagePath, kOmitEmpty);
  f("terminationMessagePolicy", o.terminationMessagePolicy, kOmitEmpty);
  f("imagePullPolicy", o.imagePullPolicy, kOmitEmpty);
  f("securityContext", o.securityContext, kOmitEmpty);
  f("stdin", o.stdin, kOmitEmpty);
  f("stdinOnce", o.stdinOnce, kOmitEmpty);
  f("tty", o.tty, kOmitEmpty);
}

template <class F>
void VisitFields(HostPathVolumeSource& o, F&& f) {
  f("path", o.path, kAlways);
  f("type", o.type, kOmitEmpty);
}

template <class F>
void VisitFields(EmptyDirVolumeSource& o, F&& f) {
  f("medium", o.medium, kOmitEmpty);
  f("sizeLimit", o.sizeLimit, kOmitEmpty);
}

template <class F>
void VisitFields(KeyToPath& o, F&& f) {
  f("key", o.key, kAlways);
  f("path", o.path, kAlways);
  f("mode", o.mode, kOmitEmpty);
}

template <class F>
void VisitFields(ConfigMapVolumeSource& o, F&& f) {
  f("name", o.name, kOmitEmpty);
  f("items", o.items, kOmitEmpty);
  f("defaultMode", o.defaultMode, kOmitEmpty);
  f("optional", o.optional, kOmitEmpty);
}

template <class F>
void VisitFields(SecretVolumeSource& o, F&& f) {
  f("secretName", o.secretName, kOmitEmpty);
  f("items", o.items, kOmitEmpty);
  f("defaultMode", o.defaultMode, kOmitEmpty);
  f("optional", o.optional, kOmitEmpty);
}

template <class F>
void VisitFields(ProjectedVolumeSource& o, F&& f) {
  f("sources", o.sources, kOmitEmpty);
  f("defaultMode", o.defaultMode, kOmitEmpty);
}

template <class F>
void VisitFields(Volume& o, F&& f) {
  f("name", o.name, kAlways);
  f("hostPath", o.hostPath, kOmitEmpty);
  f("emptyDir", o.emptyDir, kOmitEmpty);
  f("configMap", o.configMap, kOmitEmpty);
  f("secret", o.secret, kOmitEmpty);
  f("projected", o.projected, kOmitEmpty);
  f("", o.otherSources, kRest);
}

template <class F>
void VisitFields(Sysctl& o, F&& f) {
  f("name", o.name, kAlways);
  f("value", o.value, kAlways);
}

template <class F>
void VisitFields(PodSecurityContext& o, F&& f) {
  f("seLinuxOptions", o.seLinuxOptions, kOmitEmpty);
  f("runAsUser", o.runAsUser, kOmitEmpty);
  f("runAsGroup", o.runAsGroup, kOmitEmpty);
  f("runAsNonRoot", o.runAsNonRoot, kOmitEmpty);
  f("supplementalGroups", o.supplementalGroups, kOmitEmpty);
  f("fsGroup", o.fsGroup, kOmitEmpty);
  f("sysctls", o.sysctls, kOmitEmpty);
  f("fsGroupChangePolicy", o.fsGroupChangePolicy, kOmitEmpty);
  f("seccompProfile", o.seccompProfile, kOmitEmpty);
  f("supplementalGroupsPolicy", o.supplementalGroupsPolicy, kOmitEmpty);
  f("seLinuxChangePolicy", o.seLinuxChangePolicy, kOmitEmpty);
  f("windowsOptions", o.windowsOptions, kOmitEmpty);
  f("appArmorProfile", o.appArmorProfile, kOmitEmpty);
}

template <class F>
void VisitFields(PodDNSConfigOption& o, F&& f) {
  f("name", o.name, kOmitEmpty);
  f("value", o.value, kOmitEmpty);
}

template <class F>
void VisitFields(PodDNSConfig& o, F&& f) {
  f("nameservers", o.nameservers, kOmitEmpty);
  f("searches", o.searches, kOmitEmpty);
  f("options", o.options, kOmitEmpty);
}

template <class F>
void VisitFields(Toleration& o, F&& f) {
  f("key", o.key, kOmitEmpty);
  f("operator", o.operator_, kOmitEmpty);
  f("value", o.value, kOmitEmpty);
  f("effect", o.effect, kOmitEmpty);
  f("tolerationSeconds", o.tolerationSeconds, kOmitEmpty);
}

template <class F>
void VisitFields(HostAlias& o, F&& f) {
  f("ip", o.ip, kOmitEmpty);
  f("hostnames", o.hostnames, kOmitEmpty);
}

template <class F>
void VisitFields(PodReadinessGate& o, F&& f) {
  f("conditionType", o.conditionType, kAlways);
}

template <class F>
void VisitFields(PodOS& o, F&& f) {
  f("name", o.name, kAlways);
}

template <class F>
void VisitFields(PodSpec& o, F&& f) {
  f("volumes", o.volumes, kOmitEmpty);
  f("initContainers", o.initContainers, kOmitEmpty);
  f("containers", o.containers, kAlways);
  f("ephemeralContainers", o.ephemeralContainers, kOmitEmpty);
  f("restartPolicy", o.restartPolicy, kOmitEmpty);
  f("terminationGracePeriodSeconds", o.terminationGracePeriodSeconds, kOmitEmpty);
  f("activeDeadlineSeconds", o.activeDeadlineSeconds, kOmitEmpty);
  f("dnsPolicy", o.dnsPolicy, kOmitEmpty);
  f("nodeSelector", o.nodeSelector, kOmitEmpty);
  f("serviceAccountName", o.serviceAccountName, kOmitEmpty);
  f("serviceAccount", o.serviceAccount, kOmitEmpty);
  f("automountServiceAccountToken", o.automountServiceAccountToken, kOmitEmpty);
  f("nodeName", o.nodeName, kOmitEmpty);
  f("hostNetwork", o.hostNetwork, kOmitEmpty);
  f("hostPID", o.hostPID, kOmitEmpty);
  f("hostIPC", o.hostIPC, kOmitEmpty);
  f("shareProcessNamespace", o.shareProcessNamespace, kOmitEmpty);
  f("securityContext", o.securityContext, kOmitEmpty);
  f("hostname", o.hostname, kOmitEmpty);
  f("subdomain", o.subdomain, kOmitEmpty);
  f("affinity", o.affinity, kOmitEmpty);
  f("schedulerName", o.schedulerName, kOmitEmpty);
  f("tolerations", o.tolerations, kOmitEmpty);
  f("hostAliases", o.hostAliases, kOmitEmpty);
  f("priorityClassName", o.priorityClassName, kOmitEmpty);
  f("priority", o.priority, kOmitEmpty);
  f("dnsConfig", o.dnsConfig, kOmitEmpty);
  f("readinessGates", o.readinessGates, kOmitEmpty);
  f("runtimeClassName", o.runtimeClassName, kOmitEmpty);
  f("enableServiceLinks", o.enableServiceLinks, kOmitEmpty);
  f("preemptionPolicy", o.preemptionPolicy, kOmitEmpty);
  f("os", o.os, kOmitEmpty);
  f("overhead", o.overhead, kOmitEmpty);
  f("topologySpreadConstraints", o.topologySpreadConstraints, kOmitEmpty);
  f("setHostnameAsFQDN", o.setHostnameAsFQDN, kOmitEmpty);
  f("hostUsers", o.hostUsers, kOmitEmpty);
  f("schedulingGates", o.schedulingGates, kOmitEmpty);
  f("resourceClaims", o.resourceClaims, kOmitEmpty);
  f("resources", o.resources, kOmitEmpty);
}

template <class F>
void VisitFields(PodCondition& o, F&& f) {
  f("type", o.type, kAlways);
  f("status", o.status, kAlways);
  f("lastProbeTime", o.lastProbeTime, kOmitEmpty);
  f("lastTransitionTime", o.lastTransitionTime, kOmitEmpty);
  f("reason", o.reason, kOmitEmpty);
  f("message", o.message, kOmitEmpty);
}

template <class F>
void VisitFields(ContainerStateWaiting& o, F&& f) {
  f("reason", o.reason, kOmitEmpty);
  f("message", o.message, kOmitEmpty);
}

template <class F>
void VisitFields(ContainerStateRunning& o, F&& f) {
  f("startedAt", o.startedAt, kOmitEmpty);
}

template <class F>
void VisitFields(ContainerStateTerminated& o, F&& f) {
  f("exitCode", o.exitCode, kAlways);
  f("signal", o.signal, kOmitEmpty);
  f("reason", o.reason, kOmitEmpty);
  f("message", o.message, kOmitEmpty);
  f("startedAt", o.startedAt, kOmitEmpty);
  f("finishedAt", o.finishedAt, kOmitEmpty);
  f("containerID", o.containerID, kOmitEmpty);
}

template <class F>
void VisitFields(ContainerState& o, F&& f) {
  f("waiting", o.waiting, kOmitEmpty);
  f("running", o.running, kOmitEmpty);
  f("terminated", o.terminated, kOmitEmpty);
}

template <class F>
void VisitFields(ContainerStatus& o, F&& f) {
  f("name", o.name, kAlways);
  f("state", o.state, kAlways);
  f("lastState", o.lastState, kAlways);
  f("ready", o.ready, kAlways);
  f("restartCount", o.restartCount, kAlways);
  f("image", o.image, kAlways);
  f("imageID", o.imageID, kAlways);
  f("containerID", o.containerID, kOmitEmpty);
  f("started", o.started, kOmitEmpty);
  f("allocatedResources", o.allocatedResources, kOmitEmpty);
  f("resources", o.resources, kOmitEmpty);
  f("volumeMounts", o.volumeMounts, kOmitEmpty);
  f("user", o.user, kOmitEmpty);
  f("stopSignal", o.stopSignal, kOmitEmpty);
}

template <class F>
void VisitFields(PodIP& o, F&& f) {
  f("ip", o.ip, kAlways);
}

template <class F>
void VisitFields(HostIP& o, F&& f) {
  f("ip", o.ip, kAlways);
}

template <class F>
void VisitFields(PodStatus& o, F&& f) {
  f("phase", o.phase, kOmitEmpty);
  f("conditions", o.conditions, kOmitEmpty);
  f("message", o.message, kOmitEmpty);
  f("reason", o.reason, kOmitEmpty);
  f("hostIP", o.hostIP, kOmitEmpty);
  f("hostIPs", o.hostIPs, kOmitEmpty);
  f("podIP", o.podIP, kOmitEmpty);
  f("podIPs", o.podIPs, kOmitEmpty);
  f("startTime", o.startTime, kOmitEmpty);
  f("initContainerStatuses", o.initContainerStatuses, kOmitEmpty);
  f("containerStatuses", o.containerStatuses, kOmitEmpty);
  f("qosClass", o.qosClass, kOmitEmpty);
  f("nominatedNodeName", o.nominatedNodeName, kOmitEmpty);
  f("ephemeralContainerStatuses", o.ephemeralContainerStatuses, kOmitEmpty);
  f("resize", o.resize, kOmitEmpty);
  f("observedGeneration", o.observedGeneration, kOmitEmpty);
  f("resourceClaimStatuses", o.resourceClaimStatuses, kOmitEmpty);
}

template <class F>
void VisitFields(Pod& o, F&& f) {
  f("", o.typeMeta, kInline);
  f("metadata", o.metadata, kAlways);
  f("spec", o.spec, kAlways);
  f("status", o.status, kAlways);
}

}  // namespace berth::k8s

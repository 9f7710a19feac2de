// The labels and annotations the kubelet puts on CRI sandboxes and
// containers; a restarted agent reads its pods back from them.
#pragma once

namespace berth::agent {

inline constexpr char kPodNameLabel[] = "io.kubernetes.pod.name";
inline constexpr char kPodNamespaceLabel[] = "io.kubernetes.pod.namespace";
inline constexpr char kPodUidLabel[] = "io.kubernetes.pod.uid";
inline constexpr char kContainerNameLabel[] = "io.kubernetes.container.name";

inline constexpr char kContainerHashAnnotation[] = "io.kubernetes.container.hash";
inline constexpr char kContainerRestartCountAnnotation[] = "io.kubernetes.container.restartCount";
inline constexpr char kTerminationMessagePathAnnotation[] = "io.kubernetes.container.terminationMessagePath";
inline constexpr char kTerminationMessagePolicyAnnotation[] =
    "io.kubernetes.container.terminationMessagePolicy";
inline constexpr char kTerminationGracePeriodAnnotation[] = "io.kubernetes.pod.terminationGracePeriod";
// berth's own: the hash of what the sandbox config was made from.
inline constexpr char kSandboxHashAnnotation[] = "io.berth.sandbox.hash";

// Static pod annotations (kubelet's types.ConfigSourceAnnotationKey, ...).
inline constexpr char kConfigSourceAnnotation[] = "kubernetes.io/config.source";
inline constexpr char kConfigHashAnnotation[] = "kubernetes.io/config.hash";
inline constexpr char kConfigSeenAnnotation[] = "kubernetes.io/config.seen";
inline constexpr char kConfigMirrorAnnotation[] = "kubernetes.io/config.mirror";

}  // namespace berth::agent

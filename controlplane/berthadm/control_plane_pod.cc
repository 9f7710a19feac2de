#include "controlplane/berthadm/control_plane_pod.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace berth::berthadm {
namespace {

using json = nlohmann::json;

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// "/a//b/./c/../d" -> "/a/b/d" (lexically).
std::string Normalize(const std::string& path) {
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.emplace_back(part);
  }
  std::string out;
  for (const auto& part : parts) absl::StrAppend(&out, "/", part);
  return out.empty() ? "/" : out;
}

// Adds `path` to the image as on the host: each symlink met while resolving
// it (in any component) becomes the same symlink in the image, and the file
// it ends at is added at its real path.
absl::Status MirrorHostPath(const std::string& path, image::ImageBuildSpec& spec, std::set<std::string>& seen) {
  std::string pending = Normalize(path);
  for (int hops = 0; hops < 40; ++hops) {
    // The first symlink component of `pending`, if any.
    std::string prefix;
    bool resolved_link = false;
    for (absl::string_view part : absl::StrSplit(pending, '/', absl::SkipEmpty())) {
      prefix = absl::StrCat(prefix, "/", part);
      struct stat st{};
      if (lstat(prefix.c_str(), &st) != 0) return ErrnoError("lstat " + prefix);
      if (!S_ISLNK(st.st_mode)) continue;
      char target[PATH_MAX];
      ssize_t n = readlink(prefix.c_str(), target, sizeof target - 1);
      if (n < 0) return ErrnoError("readlink " + prefix);
      std::string link(target, static_cast<size_t>(n));
      if (seen.insert("link:" + prefix).second) spec.symlinks.push_back({prefix, link});
      std::string rest = pending.substr(prefix.size());
      // The components before `prefix` are real directories, so ".." may be undone lexically.
      pending = Normalize((absl::StartsWith(link, "/") ? link : absl::StrCat(Dirname(prefix), "/", link)) + rest);
      resolved_link = true;
      break;
    }
    if (!resolved_link) {
      char real[PATH_MAX];
      if (realpath(pending.c_str(), real) == nullptr) return ErrnoError("realpath " + pending);
      if (seen.insert(std::string("file:") + real).second) spec.files.push_back({real, real});
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ": too many levels of symbolic links"));
}

// ldd's output for `binary` (run without a shell; its stderr discarded).
absl::StatusOr<std::string> LddOutput(const std::string& binary) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe");
  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    dup2(fds[1], 1);
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, 2);
    execlp("ldd", "ldd", binary.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("ldd ", binary, " failed (not a dynamic executable?)"));
  }
  return out;
}

json HttpsProbe(const ControlPlanePodOptions& o, const std::string& path, int failure_threshold, int initial_delay) {
  json probe = {{"httpGet", {{"host", o.advertise_address}, {"path", path}, {"port", o.secure_port},
                             {"scheme", "HTTPS"}}},
                {"timeoutSeconds", 15},
                {"failureThreshold", failure_threshold},
                {"periodSeconds", path == "/readyz" ? 1 : 10}};
  if (initial_delay > 0) probe["initialDelaySeconds"] = initial_delay;
  return probe;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> SharedLibraries(const std::string& binary) {
  ASSIGN_OR_RETURN(std::string out, LddOutput(binary));
  std::vector<std::string> libs;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipWhitespace())) {
    line = absl::StripAsciiWhitespace(line);
    // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)",
    // "linux-vdso.so.1 (0x...)" (in the kernel: nothing to copy), "libx.so => not found".
    if (absl::StrContains(line, "not found")) {
      return absl::NotFoundError(absl::StrCat(binary, " needs a library this host lacks: ", line));
    }
    size_t arrow = line.find("=> ");
    absl::string_view path = arrow == absl::string_view::npos ? line : line.substr(arrow + 3);
    path = path.substr(0, path.find(' '));
    if (absl::StartsWith(path, "/")) libs.emplace_back(path);
  }
  if (libs.empty()) return absl::InvalidArgumentError(absl::StrCat("ldd ", binary, ": no libraries listed"));
  return libs;
}

absl::StatusOr<image::ImageBuildSpec> HostBinaryImageSpec(const std::string& name,
                                                          const std::vector<std::string>& binaries) {
  if (binaries.empty()) return absl::InvalidArgumentError("host image: no binaries");
  image::ImageBuildSpec spec;
  spec.name = name;
  std::set<std::string> seen;
  for (const std::string& binary : binaries) {
    char real[PATH_MAX];
    if (realpath(binary.c_str(), real) == nullptr) return ErrnoError("host image: " + binary);
    std::string base = binary.substr(binary.rfind('/') + 1);
    spec.files.push_back({real, "/usr/local/bin/" + base});
    if (spec.entrypoint.empty()) spec.entrypoint = {"/usr/local/bin/" + base};
    ASSIGN_OR_RETURN(std::vector<std::string> libs, SharedLibraries(binary));
    for (const std::string& lib : libs) RETURN_IF_ERROR(MirrorHostPath(lib, spec, seen));
  }
  return spec;
}

json ControlPlanePod(const ControlPlanePodOptions& o) {
  std::string store = o.store.empty() ? absl::StrCat("sqlite://", o.data_dir, "/cp.db") : o.store;
  json command = {"/usr/local/bin/berth-controlplane",
                  "serve",
                  absl::StrCat("--bind-address=", o.bind_address),
                  absl::StrCat("--secure-port=", o.secure_port),
                  absl::StrCat("--tls-cert-file=", o.cert_dir, "/apiserver.crt"),
                  absl::StrCat("--tls-private-key-file=", o.cert_dir, "/apiserver.key"),
                  absl::StrCat("--client-ca-file=", o.cert_dir, "/ca.crt"),
                  absl::StrCat("--store=", store)};
  for (const std::string& arg : o.extra_args) command.push_back(arg);
  json volume_mounts = {{{"name", "k8s-certs"}, {"mountPath", o.cert_dir}, {"readOnly", true}},
                        {{"name", "controlplane-data"}, {"mountPath", o.data_dir}}};
  json volumes = {{{"name", "k8s-certs"}, {"hostPath", {{"path", o.cert_dir}, {"type", "DirectoryOrCreate"}}}},
                  {{"name", "controlplane-data"},
                   {"hostPath", {{"path", o.data_dir}, {"type", "DirectoryOrCreate"}}}}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", "berth-controlplane"},
            {"namespace", "kube-system"},
            {"labels", {{"component", "berth-controlplane"}, {"tier", "control-plane"}}},
            {"annotations",
             {{"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint",
               absl::StrCat(o.advertise_address, ":", o.secure_port)}}}}},
          {"spec",
           {{"hostNetwork", true},
            {"priorityClassName", "system-node-critical"},
            {"priority", 2000001000},
            {"securityContext", {{"seccompProfile", {{"type", "RuntimeDefault"}}}}},
            {"containers",
             {{{"name", "berth-controlplane"},
               {"image", o.image},
               {"imagePullPolicy", "Never"},
               {"command", command},
               {"resources", {{"requests", {{"cpu", "250m"}}}}},
               {"startupProbe", HttpsProbe(o, "/livez", 24, 10)},
               {"livenessProbe", HttpsProbe(o, "/livez", 8, 10)},
               {"readinessProbe", HttpsProbe(o, "/readyz", 3, 0)},
               {"volumeMounts", volume_mounts}}}},
            {"volumes", volumes}}}};
}

}  // namespace berth::berthadm

// A fake libnvidia-ml.so.1 for tests on machines without a GPU: the entry
// points berth-gpu-plugin resolves, answering from a JSON file named by
// $BERTH_FAKE_NVML:
//
//   {"driver": "535.104.05",
//    "gpus": [{"uuid": "GPU-a", "minor": 0, "bus_id": "00000000:01:00.0",
//              "name": "NVIDIA A100", "memory": 42949672960}, ...],
//    "nvlinks": [[0, 1, 4]],          // GPU 0 and GPU 1 joined by 4 links
//    "events": "/path/events",        // lines "<gpu index> <xid>" appended by the test
//    "lost": "/path/lost"}            // a file <lost>/<index> makes that GPU answer GPU_IS_LOST
//
// nvmlEventSetWait_v2 blocks on inotify for the events file, up to its timeout.
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct FakeGpu {
  std::string uuid, bus_id, name;
  unsigned minor = 0;
  unsigned long long memory = 0;
  std::vector<int> links;  // remote GPU index per link
};

struct FakeState {
  std::string driver, events, lost;
  std::vector<FakeGpu> gpus;
  size_t events_offset = 0;
  bool loaded = false;
};

FakeState& State() {
  static FakeState s;
  return s;
}

struct EventData {
  void* device;
  unsigned long long event_type;
  unsigned long long event_data;
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

struct PciInfo {
  char bus_id_legacy[16];
  unsigned int domain, bus, device, pci_device_id, pci_sub_system_id;
  char bus_id[32];
};

constexpr int kSuccess = 0, kInvalidArgument = 2, kNotFound = 6, kTimeout = 10, kUninitialized = 1, kGpuIsLost = 15;

FakeGpu* Gpu(void* device) {
  auto& gpus = State().gpus;
  for (auto& g : gpus) {
    if (&g == device) return &g;
  }
  return nullptr;
}

int IndexOf(const FakeGpu* g) { return static_cast<int>(g - State().gpus.data()); }

bool Lost(const FakeGpu* g) {
  if (State().lost.empty()) return false;
  return access((State().lost + "/" + std::to_string(IndexOf(g))).c_str(), F_OK) == 0;
}

void Copy(char* out, unsigned len, const std::string& s) {
  std::snprintf(out, len, "%s", s.c_str());
}

// The next complete "<index> <xid>" line after the offset, if any.
bool NextEvent(EventData* data) {
  FakeState& s = State();
  std::ifstream in(s.events);
  if (!in) return false;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() <= s.events_offset) return false;
  size_t nl = text.find('\n', s.events_offset);
  if (nl == std::string::npos) return false;
  std::istringstream line(text.substr(s.events_offset, nl - s.events_offset));
  s.events_offset = nl + 1;
  int index = -1;
  unsigned long long xid = 0;
  line >> index >> xid;
  data->device = index >= 0 && index < static_cast<int>(s.gpus.size()) ? &s.gpus[index] : nullptr;
  data->event_type = 0x8;  // nvmlEventTypeXidCriticalError
  data->event_data = xid;
  return true;
}

}  // namespace

extern "C" {

int nvmlInit_v2() {
  FakeState& s = State();
  const char* path = std::getenv("BERTH_FAKE_NVML");
  if (path == nullptr) return 9;  // NVML_ERROR_DRIVER_NOT_LOADED
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return 9;
  s.driver = j.value("driver", "");
  s.events = j.value("events", "");
  s.lost = j.value("lost", "");
  s.gpus.clear();
  for (const auto& g : j["gpus"]) {
    FakeGpu f;
    f.uuid = g["uuid"];
    f.minor = g["minor"];
    f.bus_id = g["bus_id"];
    f.name = g.value("name", "NVIDIA Fake");
    f.memory = g.value("memory", 16ULL << 30);
    s.gpus.push_back(f);
  }
  if (j.contains("nvlinks")) {
    for (const auto& l : j["nvlinks"]) {
      int a = l[0], b = l[1], n = l[2];
      for (int i = 0; i < n; ++i) {
        s.gpus[a].links.push_back(b);
        s.gpus[b].links.push_back(a);
      }
    }
  }
  s.loaded = true;
  return kSuccess;
}

int nvmlShutdown() { return kSuccess; }
const char* nvmlErrorString(int r) { return r == kGpuIsLost ? "GPU is lost" : "fake NVML error"; }

int nvmlSystemGetDriverVersion(char* out, unsigned len) {
  Copy(out, len, State().driver);
  return kSuccess;
}

int nvmlDeviceGetCount_v2(unsigned* count) {
  if (!State().loaded) return kUninitialized;
  *count = static_cast<unsigned>(State().gpus.size());
  return kSuccess;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned index, void** device) {
  if (index >= State().gpus.size()) return kInvalidArgument;
  *device = &State().gpus[index];
  return kSuccess;
}

int nvmlDeviceGetUUID(void* device, char* out, unsigned len) {
  FakeGpu* g = Gpu(device);
  if (g == nullptr) return kInvalidArgument;
  Copy(out, len, g->uuid);
  return kSuccess;
}

int nvmlDeviceGetName(void* device, char* out, unsigned len) {
  FakeGpu* g = Gpu(device);
  if (g == nullptr) return kInvalidArgument;
  Copy(out, len, g->name);
  return kSuccess;
}

int nvmlDeviceGetMinorNumber(void* device, unsigned* minor) {
  FakeGpu* g = Gpu(device);
  if (g == nullptr) return kInvalidArgument;
  *minor = g->minor;
  return kSuccess;
}

int nvmlDeviceGetMemoryInfo(void* device, unsigned long long* memory /* total, free, used */) {
  FakeGpu* g = Gpu(device);
  if (g == nullptr) return kInvalidArgument;
  if (Lost(g)) return kGpuIsLost;
  memory[0] = g->memory;
  memory[1] = g->memory;
  memory[2] = 0;
  return kSuccess;
}

int nvmlDeviceGetPciInfo_v3(void* device, PciInfo* pci) {
  FakeGpu* g = Gpu(device);
  if (g == nullptr) return kInvalidArgument;
  std::memset(pci, 0, sizeof *pci);
  Copy(pci->bus_id, sizeof pci->bus_id, g->bus_id);
  return kSuccess;
}

int nvmlDeviceGetTopologyCommonAncestor(void*, void*, int* level) {
  *level = 50;  // NVML_TOPOLOGY_SYSTEM
  return kSuccess;
}

int nvmlDeviceGetNvLinkState(void* device, unsigned link, int* active) {
  FakeGpu* g = Gpu(device);
  if (g == nullptr) return kInvalidArgument;
  *active = link < g->links.size() ? 1 : 0;
  return kSuccess;
}

int nvmlDeviceGetNvLinkRemotePciInfo_v2(void* device, unsigned link, PciInfo* pci) {
  FakeGpu* g = Gpu(device);
  if (g == nullptr || link >= g->links.size()) return kNotFound;
  std::memset(pci, 0, sizeof *pci);
  Copy(pci->bus_id, sizeof pci->bus_id, State().gpus[g->links[link]].bus_id);
  return kSuccess;
}

int nvmlEventSetCreate(void** set) {
  *set = &State();
  return kSuccess;
}

int nvmlDeviceRegisterEvents(void* device, unsigned long long, void*) {
  return Gpu(device) ? kSuccess : kInvalidArgument;
}

int nvmlEventSetWait_v2(void*, EventData* data, unsigned timeout_ms) {
  if (NextEvent(data)) return kSuccess;
  const std::string& events = State().events;
  if (events.empty()) {
    poll(nullptr, 0, static_cast<int>(timeout_ms));
    return kTimeout;
  }
  int fd = inotify_init1(IN_CLOEXEC);
  std::string dir = events.substr(0, events.rfind('/'));
  inotify_add_watch(fd, dir.c_str(), IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_CREATE);
  int r = kTimeout;
  if (NextEvent(data)) {
    r = kSuccess;
  } else {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout_ms)) == 1 && NextEvent(data)) r = kSuccess;
  }
  close(fd);
  return r;
}

int nvmlEventSetFree(void*) { return kSuccess; }

}  // extern "C"

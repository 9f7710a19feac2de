#include "runtime-shim/image/image_store_check.h"

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/fs.h"
#include "runtime-shim/image/digest.h"
#include "runtime-shim/image/image_record.h"

namespace berth::image {
namespace {

std::string HexOf(const std::string& digest) { return digest.substr(digest.find(':') + 1); }

bool IsCompleteName(const std::string& name, absl::string_view suffix) {
  return name.size() == 64 + suffix.size() && absl::EndsWith(name, suffix) &&
         IsHex(absl::string_view(name).substr(0, 64));
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Describe(const ImageRecord& record) {
  if (record.image.repo_tags.empty()) return record.image.id;
  return absl::StrCat(record.image.id, " (", absl::StrJoin(record.image.repo_tags, ", "), ")");
}

class Checker {
 public:
  Checker(std::string root, const StoreCheckOptions& options) : root_(std::move(root)), options_(options) {}

  StoreCheckResult Run() {
    EnsureLayout();
    FindLeftovers();
    LoadRecords();
    VerifyRecords();
    FindOrphans();
    return std::move(result_);
  }

 private:
  std::string Blobs() const { return root_ + "/blobs/sha256"; }
  std::string Snapshots() const { return root_ + "/snapshots"; }
  std::string Records() const { return root_ + "/images"; }

  // Records the finding, repairing it first when asked and `repair` is given.
  void Report(StoreFinding f, const std::function<absl::Status()>& repair) {
    if (options_.repair && repair) {
      absl::Status status = repair();
      f.repaired = status.ok();
      if (!status.ok()) f.repair_error = std::string(status.message());
    }
    if (options_.on_finding) options_.on_finding(f);
    result_.findings.push_back(std::move(f));
  }

  // Lists a directory, reporting (and skipping) one that cannot be read.
  std::vector<std::string> List(const std::string& dir) {
    absl::StatusOr<std::vector<std::string>> names = ListDir(dir);
    if (names.ok()) return *names;
    if (!absl::IsNotFound(names.status())) {
      Report({"unreadable", dir, std::string(names.status().message())}, nullptr);
    }
    return {};
  }

  void EnsureLayout() {
    for (const std::string& dir : {Blobs(), Snapshots(), Records(), root_ + "/tmp"}) {
      if (IsDir(dir)) continue;
      Report({"missing-dir", dir, "part of the store layout is missing"}, [dir] { return MkdirAll(dir, 0700); });
    }
  }

  void FindLeftovers() {
    for (const std::string& name : List(root_ + "/tmp")) {
      std::string path = absl::StrCat(root_, "/tmp/", name);
      Report({"leftover", path, "staging from an interrupted import or pull"}, [path] { return RemoveAll(path); });
    }
    struct Dir {
      std::string path;
      absl::string_view suffix;
    };
    for (const Dir& dir : {Dir{Snapshots(), ""}, Dir{Blobs(), ""}, Dir{Records(), ".json"}}) {
      for (const std::string& name : List(dir.path)) {
        if (IsCompleteName(name, dir.suffix)) continue;
        std::string path = absl::StrCat(dir.path, "/", name);
        Report({"leftover", path, "half-written (not a complete entry name)"}, [path] { return RemoveAll(path); });
      }
    }
  }

  void LoadRecords() {
    for (const std::string& name : List(Records())) {
      if (!IsCompleteName(name, ".json")) continue;
      std::string path = absl::StrCat(Records(), "/", name);
      ++result_.records_seen;
      absl::StatusOr<std::string> text = ReadFile(path);
      absl::StatusOr<ImageRecord> record =
          text.ok() ? DecodeImageRecord(*text) : absl::StatusOr<ImageRecord>(text.status());
      std::string problem;
      if (!record.ok()) {
        problem = std::string(record.status().message());
      } else if (!DigestHex(record->image.id, "id").ok() || HexOf(record->image.id) + ".json" != name) {
        problem = absl::StrCat("its id '", record->image.id, "' does not match the file name");
      } else {
        for (const std::string& d : record->manifest_digests) {
          if (!DigestHex(d, "manifest digest").ok()) problem = absl::StrCat("bad manifest digest '", d, "'");
        }
        for (const std::string& d : record->layer_digests) {
          if (!DigestHex(d, "layer digest").ok()) problem = absl::StrCat("bad layer digest '", d, "'");
        }
        for (const std::string& c : record->image.chain_ids) {
          if (!DigestHex(c, "chain id").ok()) problem = absl::StrCat("bad chain id '", c, "'");
        }
      }
      if (!problem.empty()) {
        Report({"bad-record", path, absl::StrCat("unreadable image record: ", problem)},
               [path] { return RemoveAll(path); });
        continue;
      }
      records_[path] = std::move(*record);
    }
  }

  // "" when the blob is present and matches its digest, else what is wrong.
  const std::string& BlobProblem(const std::string& digest) {
    auto it = blob_problems_.find(digest);
    if (it != blob_problems_.end()) return it->second;
    std::string path = absl::StrCat(Blobs(), "/", HexOf(digest));
    std::string& problem = blob_problems_[digest];
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      problem = errno == ENOENT ? "missing" : ErrnoError("stat").ToString();
    } else if (!S_ISREG(st.st_mode)) {
      problem = "not a regular file";
    } else {
      ++result_.blobs_verified;
      absl::StatusOr<std::string> got = Sha256File(path);
      if (!got.ok()) {
        problem = absl::StrCat("cannot be read: ", got.status().message());
      } else if (*got != digest) {
        problem = absl::StrCat("content hashes to ", *got);
      }
    }
    return problem;
  }

  const std::string& SnapshotProblem(const std::string& chain_id) {
    auto it = snapshot_problems_.find(chain_id);
    if (it != snapshot_problems_.end()) return it->second;
    std::string dir = absl::StrCat(Snapshots(), "/", HexOf(chain_id));
    std::string& problem = snapshot_problems_[chain_id];
    if (!PathExists(dir)) {
      problem = "missing";
    } else if (!IsDir(dir + "/fs")) {
      problem = "has no fs directory";
    }
    return problem;
  }

  void VerifyRecords() {
    std::set<std::string> reported_blobs, reported_snapshots;
    for (auto it = records_.begin(); it != records_.end();) {
      const std::string& path = it->first;
      const ImageRecord& record = it->second;
      std::vector<std::string> wrong;
      std::vector<std::string> blobs = {record.image.id};
      blobs.insert(blobs.end(), record.manifest_digests.begin(), record.manifest_digests.end());
      blobs.insert(blobs.end(), record.layer_digests.begin(), record.layer_digests.end());
      for (const std::string& digest : blobs) {
        const std::string& problem = BlobProblem(digest);
        if (problem.empty()) continue;
        wrong.push_back(absl::StrCat("blob ", digest, " ", problem));
        if (!reported_blobs.insert(digest).second) continue;
        std::string blob_path = absl::StrCat(Blobs(), "/", HexOf(digest));
        // A missing one is named by the invalid-record line below.
        if (problem != "missing") {
          Report({"corrupt-blob", blob_path, problem}, [blob_path] { return RemoveAll(blob_path); });
        }
      }
      for (const std::string& chain_id : record.image.chain_ids) {
        const std::string& problem = SnapshotProblem(chain_id);
        if (problem.empty()) continue;
        wrong.push_back(absl::StrCat("snapshot ", HexOf(chain_id), " ", problem));
        if (!reported_snapshots.insert(chain_id).second) continue;
        std::string dir = absl::StrCat(Snapshots(), "/", HexOf(chain_id));
        if (problem != "missing") {
          Report({"corrupt-snapshot", dir, problem}, [dir] { return RemoveAll(dir); });
        }
      }
      if (wrong.empty()) {
        ++it;
        continue;
      }
      std::string record_path = path;
      Report({"invalid-record", record_path,
              absl::StrCat("image ", Describe(record), " cannot be used: ", absl::StrJoin(wrong, "; "))},
             [record_path] {
               if (::unlink(record_path.c_str()) != 0 && errno != ENOENT) {
                 return ErrnoError(absl::StrCat("unlink ", record_path));
               }
               return absl::OkStatus();
             });
      if (options_.repair && result_.findings.back().repaired) {
        it = records_.erase(it);  // its blobs and snapshots are orphans now, unless others share them
      } else {
        ++it;
      }
    }
  }

  void FindOrphans() {
    std::set<std::string> blobs, snapshots;
    for (const auto& [path, record] : records_) {
      blobs.insert(HexOf(record.image.id));
      for (const std::string& d : record.manifest_digests) blobs.insert(HexOf(d));
      for (const std::string& d : record.layer_digests) blobs.insert(HexOf(d));
      for (const std::string& c : record.image.chain_ids) snapshots.insert(HexOf(c));
    }
    for (const std::string& name : List(Snapshots())) {
      if (!IsCompleteName(name, "")) continue;  // reported as a leftover
      ++result_.snapshots_seen;
      if (snapshots.count(name)) continue;
      std::string path = absl::StrCat(Snapshots(), "/", name);
      Report({"orphaned-snapshot", path, "referenced by no image"}, [path] { return RemoveAll(path); });
    }
    for (const std::string& name : List(Blobs())) {
      if (!IsCompleteName(name, "") || blobs.count(name)) continue;
      std::string path = absl::StrCat(Blobs(), "/", name);
      if (!PathExists(path)) continue;  // removed as corrupt above
      Report({"orphaned-blob", path, "referenced by no image"}, [path] { return RemoveAll(path); });
    }
  }

  const std::string root_;
  const StoreCheckOptions& options_;
  StoreCheckResult result_;
  std::map<std::string, ImageRecord> records_;  // by record path: the readable ones
  std::map<std::string, std::string> blob_problems_;
  std::map<std::string, std::string> snapshot_problems_;
};

}  // namespace

std::string StoreFinding::Line() const {
  std::string line = absl::StrCat(kind, " ", path, ": ", detail);
  if (repaired) {
    absl::StrAppend(&line, ": repaired");
  } else if (!repair_error.empty()) {
    absl::StrAppend(&line, ": repair failed: ", repair_error);
  }
  return line;
}

size_t StoreCheckResult::Remaining() const {
  size_t n = 0;
  for (const StoreFinding& f : findings) n += !f.repaired;
  return n;
}

absl::StatusOr<StoreCheckResult> CheckImageStore(const std::string& root, const StoreCheckOptions& options) {
  if (root.empty() || root[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("image store root '", root, "' must be an absolute path"));
  }
  std::string clean = CleanPath(root);
  if (!IsDir(clean)) {
    return absl::NotFoundError(absl::StrCat("image store ", clean, " does not exist or is not a directory"));
  }
  return Checker(clean, options).Run();
}

}  // namespace berth::image

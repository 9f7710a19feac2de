#include "runtime-shim/shim/log_compressor.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <string>

#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth::shim {
namespace {

std::string Gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return "<cannot open>";
  std::string out;
  char buf[4096];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

TEST(LogCompressorTest, GzipsAndRemovesTheSource) {
  char tmpl[] = "/tmp/berth-gz-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "2026-12-07T16:30:05.000000123Z stdout F line " + std::to_string(i) + "\n";
  const std::string path = dir + "/0.log.20261207-163005";
  ASSERT_TRUE(AtomicWriteFile(path, content).ok());
  ASSERT_TRUE(CompressLogFile(path).ok());
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  EXPECT_NE(access((dir + "/.0.log.20261207-163005.gz.tmp").c_str(), F_OK), 0);
  EXPECT_EQ(Gunzip(path + ".gz"), content);
  struct stat st = {};
  ASSERT_EQ(stat((path + ".gz").c_str(), &st), 0);
  EXPECT_LT(st.st_size, static_cast<off_t>(content.size()) / 4);

  absl::Status missing = CompressLogFile(dir + "/gone");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find(dir + "/gone"), std::string::npos) << missing;
  ASSERT_TRUE(RemoveAll(dir).ok());
}

}  // namespace
}  // namespace berth::shim

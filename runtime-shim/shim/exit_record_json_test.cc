#include "runtime-shim/shim/exit_record_json.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "runtime-shim/spec/container_spec.h"

namespace berth::shim {
namespace {

std::string Json(const ExitFields& fields) {
  auto text = std::make_unique<Text<8192>>();
  EXPECT_TRUE(AppendExitRecordJson(fields, text.get()));
  return std::string(text->view());
}

TEST(ExitRecordJsonTest, ExitRecordFromJsonReadsEveryField) {
  ExitFields fields;
  fields.exit_code = 137;
  fields.signal = 9;
  fields.oom_killed = true;
  fields.started_at = 1700000000123456789;
  fields.finished_at = 1700000001987654321;
  fields.reason = "OOMKilled";
  fields.message = "";
  auto record = ExitRecordFromJson(Json(fields));
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->exit_code, 137);
  EXPECT_EQ(record->signal, 9);
  EXPECT_TRUE(record->oom_killed);
  EXPECT_EQ(record->started_at, 1700000000123456789);
  EXPECT_EQ(record->finished_at, 1700000001987654321);
  EXPECT_EQ(record->reason, "OOMKilled");
  EXPECT_EQ(record->message, "");
}

TEST(ExitRecordJsonTest, MatchesTheLibraryEncodingForPlainText) {
  ExitFields fields;
  fields.exit_code = 3;
  fields.reason = "Error";
  fields.message = "exec \"/bin/x\": No such file or directory\n\ttab \\ \x01\x7f";
  ExitRecord record;
  record.exit_code = 3;
  record.reason = "Error";
  record.message = std::string(fields.message);
  auto parsed = ExitRecordFromJson(Json(fields));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->message, record.message);
  EXPECT_EQ(ExitRecordToJson(*parsed), ExitRecordToJson(record));
}

TEST(ExitRecordJsonTest, KeepsUtf8AndReplacesInvalidBytes) {
  ExitFields fields;
  fields.reason = "StartError";
  fields.message = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3 bad:\xff\xc3 \xed\xa0\x80 \xc0\xaf end";
  auto parsed = ExitRecordFromJson(Json(fields));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->message,
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3 bad:\xef\xbf\xbd\xef\xbf\xbd "
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd end");
}

TEST(ExitRecordJsonTest, ReportsATooSmallBuffer) {
  ExitFields fields;
  fields.message = "0123456789";
  Text<32> small;
  EXPECT_FALSE(AppendExitRecordJson(fields, &small));
}

}  // namespace
}  // namespace berth::shim

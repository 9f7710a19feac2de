#include "agent/server/tab_writer.h"

#include <vector>

#include "absl/strings/str_split.h"

namespace berth::agent {
namespace {

using Line = std::vector<absl::string_view>;  // cells; the last one has no tab after it

size_t DisplayWidth(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 lead bytes
  return n;
}

class Formatter {
 public:
  Formatter(const std::vector<Line>& lines, int padding, std::string* out)
      : lines_(lines), padding_(padding), out_(out) {}

  // Go's tabwriter format(): find each run of lines that have a cell in the
  // next column, size it, recurse into it; write the lines in between.
  void Format(size_t line0, size_t line1) {
    size_t column = widths_.size();
    for (size_t i = line0; i < line1; ++i) {
      if (column + 1 >= lines_[i].size()) continue;
      WriteLines(line0, i);
      line0 = i;
      size_t width = 0;
      for (; i < line1 && column + 1 < lines_[i].size(); ++i) {
        width = std::max(width, DisplayWidth(lines_[i][column]) + padding_);
      }
      widths_.push_back(width);
      Format(line0, i);
      widths_.pop_back();
      line0 = i;
      if (i == line1) break;
    }
    WriteLines(line0, line1);
  }

 private:
  void WriteLines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const Line& line = lines_[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out_->append(line[j].data(), line[j].size());
        if (j < widths_.size()) out_->append(widths_[j] - DisplayWidth(line[j]), ' ');
      }
      if (i + 1 < lines_.size()) out_->push_back('\n');
    }
  }

  const std::vector<Line>& lines_;
  int padding_;
  std::string* out_;
  std::vector<size_t> widths_;
};

}  // namespace

std::string AlignTabs(const std::string& text, int padding) {
  std::vector<Line> lines;
  for (absl::string_view l : absl::StrSplit(text, '\n')) lines.push_back(absl::StrSplit(l, '\t'));
  std::string out;
  Formatter(lines, padding, &out).Format(0, lines.size());
  return out;
}

}  // namespace berth::agent

// AlignTabs: the column alignment kubectl's describe output gets from Go's
// text/tabwriter (minwidth 0, padding 2, padded with spaces): cells end at
// '\t'; a column is as wide as its widest cell in a run of consecutive lines
// that have that column, plus the padding; a line's last cell is not padded.
#pragma once

#include <string>

namespace berth::agent {

std::string AlignTabs(const std::string& text, int padding = 2);

}  // namespace berth::agent

#include "agent/pod/expansion.h"

namespace berth::agent {

std::string ExpandVars(const std::string& in, const VarLookup& lookup) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out.push_back(in[i]);
      continue;
    }
    char next = in[i + 1];
    if (next == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (next == '(') {
      size_t close = in.find(')', i + 2);
      if (close == std::string::npos) {
        out.append(in, i, std::string::npos);
        break;
      }
      std::string name = in.substr(i + 2, close - i - 2);
      auto value = lookup(name);
      if (value) {
        out += *value;
      } else {
        out += "$(" + name + ")";
      }
      i = close;
      continue;
    }
    out.push_back('$');
  }
  return out;
}

}  // namespace berth::agent

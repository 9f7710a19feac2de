// $(VAR) expansion in env values, command and args, as Kubernetes does it:
// "$(NAME)" becomes the variable's value when it is defined and stays as
// written when not; "$$" is a literal "$" (so "$$(NAME)" stays "$(NAME)").
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace berth::agent {

using VarLookup = std::function<std::optional<std::string>(const std::string& name)>;

std::string ExpandVars(const std::string& input, const VarLookup& lookup);

}  // namespace berth::agent

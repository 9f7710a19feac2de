// Internal to api/k8s/kinds: the schema source text (format in schema.h),
// one function per file.
#pragma once

#include <string_view>

namespace berth::k8s::kinds {

std::string_view SchemaTextMeta();       // schema_meta.cc: meta/v1
std::string_view SchemaTextPod();        // schema_pod.cc: core/v1 Pod and its parts
std::string_view SchemaTextCore();       // schema_core.cc: the other core/v1 kinds
std::string_view SchemaTextWorkloads();  // schema_workloads.cc: apps/v1, batch/v1
std::string_view SchemaTextOther();      // schema_other.cc: coordination, discovery, events

}  // namespace berth::k8s::kinds

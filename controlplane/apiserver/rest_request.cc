#include "controlplane/apiserver/rest_request.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "api/k8s/codec.h"
#include "api/k8s/patch/patch.h"
#include "controlplane/apiserver/object_meta.h"
#include "controlplane/apiserver/protobuf_body.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

std::string WarningHeader(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return absl::StrCat("299 - \"", escaped, "\"");
}

}  // namespace

std::string MediaTypeOf(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

std::string ApiVersionOf(const k8s::kinds::KindInfo& kind) {
  return kind.group.empty() ? kind.version : absl::StrCat(kind.group, "/", kind.version);
}

Result<json> ParseText(const std::string& body, bool yaml) {
  if (yaml) {
    auto docs = k8s::YamlToJson(body);
    if (!docs.ok()) return BadRequestError(absl::StrCat("error decoding YAML: ", docs.status().message()));
    if (docs->size() != 1) {
      return BadRequestError(absl::StrCat("the request body must hold one YAML document, got ", docs->size()));
    }
    return (*docs)[0];
  }
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    try {
      json reparsed = json::parse(body);
      (void)reparsed;
    } catch (const json::parse_error& e) {
      return BadRequestError(absl::StrCat("the body of the request was not valid JSON: ", e.what()));
    }
    return BadRequestError("the body of the request was not valid JSON");
  }
  return parsed;
}

// The apiVersion and kind the body names must be this resource's.
std::optional<ApiError> CheckTypeMeta(const json& obj, const k8s::kinds::KindInfo& kind,
                                      const std::string& want_kind, const std::string& want_version) {
  if (!obj.is_object()) return BadRequestError("the body of the request must be a JSON object");
  std::string body_kind = obj.value("kind", "");
  std::string body_version = obj.value("apiVersion", "");
  if (body_kind.empty()) return BadRequestError(absl::StrCat("Object 'Kind' is missing in '", obj.dump(), "'"));
  if (body_version.empty()) {
    return BadRequestError(absl::StrCat("Object 'apiVersion' is missing in '", obj.dump(), "'"));
  }
  if (body_version != want_version) {
    return BadRequestError(absl::StrCat("the API version in the data (", body_version,
                                        ") does not match the expected API version (", want_version, ")"));
  }
  if (body_kind != want_kind) {
    return BadRequestError(absl::StrCat("the kind in the data (", body_kind,
                                        ") does not match the expected kind (", want_kind, ")"));
  }
  (void)kind;
  return std::nullopt;
}

std::optional<ApiError> CheckTypeMeta(const json& obj, const k8s::kinds::KindInfo& kind) {
  return CheckTypeMeta(obj, kind, kind.kind, ApiVersionOf(kind));
}

Result<WriteParams> ParseWrite(const RestRequest& r) {
  WriteParams w;
  std::string dry_run = QueryValue(r.query, "dryRun");
  if (!dry_run.empty() && dry_run != "All") {
    return BadRequestError(absl::StrCat("dryRun: Unsupported value: \"", dry_run, "\": supported values: \"All\""));
  }
  w.options.dry_run = dry_run == "All";
  w.options.field_manager = QueryValue(r.query, "fieldManager");
  if (w.options.field_manager.empty()) {
    std::string agent = r.http.Header("user-agent");
    w.options.field_manager = agent.substr(0, agent.find('/'));
    if (w.options.field_manager.empty()) w.options.field_manager = "unknown";
  }
  if (w.options.field_manager.size() > 128) {
    return BadRequestError("fieldManager: Too long: may not be longer than 128 characters");
  }
  w.field_validation = QueryValue(r.query, "fieldValidation");
  if (w.field_validation.empty()) w.field_validation = "Warn";
  if (w.field_validation != "Strict" && w.field_validation != "Warn" && w.field_validation != "Ignore") {
    return BadRequestError(absl::StrCat("fieldValidation: Unsupported value: \"", w.field_validation,
                                        "\": supported values: \"Ignore\", \"Strict\", \"Warn\""));
  }
  return w;
}

// Unknown fields: an error under Strict, warnings under Warn.
std::optional<ApiError> CheckUnknownFields(const json& obj, const k8s::kinds::KindInfo& kind,
                                           const std::string& mode, Headers* warnings) {
  if (mode == "Ignore" || !kind.unknown_fields) return std::nullopt;
  std::vector<std::string> unknown = kind.unknown_fields(obj);
  if (unknown.empty()) return std::nullopt;
  if (mode == "Strict") {
    std::vector<std::string> parts;
    for (const auto& f : unknown) parts.push_back(absl::StrCat("unknown field \"", f, "\""));
    return BadRequestError(absl::StrCat("strict decoding error: ", absl::StrJoin(parts, ", ")));
  }
  for (const auto& f : unknown) {
    warnings->push_back({"Warning", WarningHeader(absl::StrCat("unknown field \"", f, "\""))});
  }
  return std::nullopt;
}

json SuccessStatus(int code) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Success"},
          {"code", code}};
}

void WriteObject(ResponseWriter& writer, int code, const json& body, MediaType type, const Headers& extra) {
  Headers headers = extra;
  if (type == MediaType::kYaml) {
    headers.push_back({"Content-Type", "application/yaml"});
    writer.Send(code, headers, k8s::JsonToYaml(body));
    return;
  }
  headers.push_back({"Content-Type", "application/json"});
  writer.Send(code, headers, body.dump());
}

void WriteError(ResponseWriter& writer, const ApiError& error) {
  writer.Send(error.code, {{"Content-Type", "application/json"}}, error.ToStatus().dump());
}

Result<json> DecodeBody(const HttpRequest& request) {
  std::string media = MediaTypeOf(request.Header("content-type"));
  if (media.empty() || media == "application/json") return ParseText(request.body, false);
  if (media == "application/yaml" || media == "application/x-yaml" || media == "text/yaml") {
    return ParseText(request.body, true);
  }
  if (media == kProtobufMediaType) {
    auto decoded = DecodeProtobufBody(request.body);
    if (decoded.ok()) return std::move(*decoded);
    if (decoded.status().code() == absl::StatusCode::kUnimplemented) {
      ApiError e = UnsupportedMediaTypeError(media);
      e.message = std::string(decoded.status().message());
      return e;
    }
    return BadRequestError(decoded.status().message());
  }
  return UnsupportedMediaTypeError(media);
}

Result<ListQuery> ParseListQuery(const QueryParams& query, ResourceStorage* storage) {
  ListQuery q;
  auto labels = LabelSelector::Parse(QueryValue(query, "labelSelector"));
  if (!labels.ok()) return BadRequestError(labels.status().message());
  q.labels = std::move(*labels);
  auto fields = FieldSelector::Parse(QueryValue(query, "fieldSelector"));
  if (!fields.ok()) return BadRequestError(fields.status().message());
  for (const auto& req : fields->requirements()) {
    if (req.field == "metadata.name" || req.field == "metadata.namespace") continue;
    const auto& kind = storage->kind();
    if (!kind.field_value || !kind.field_value(json::object(), req.field).has_value()) {
      return BadRequestError(absl::StrCat("field label not supported: ", req.field));
    }
  }
  q.fields = std::move(*fields);
  std::string limit = QueryValue(query, "limit");
  if (!limit.empty() && (!absl::SimpleAtoi(limit, &q.limit) || q.limit < 0)) {
    return BadRequestError(absl::StrCat("limit: Invalid value: \"", limit, "\": must be a non-negative integer"));
  }
  q.continue_token = QueryValue(query, "continue");
  q.resource_version = QueryValue(query, "resourceVersion");
  q.resource_version_match = QueryValue(query, "resourceVersionMatch");
  if (!q.resource_version_match.empty() && q.resource_version_match != "Exact" &&
      q.resource_version_match != "NotOlderThan") {
    return BadRequestError(absl::StrCat("resourceVersionMatch: Unsupported value: \"", q.resource_version_match,
                                        "\": supported values: \"Exact\", \"NotOlderThan\""));
  }
  int64_t rv;
  if (!q.resource_version.empty() && (!absl::SimpleAtoi(q.resource_version, &rv) || rv < 0)) {
    return BadRequestError(absl::StrCat("resourceVersion: Invalid value: \"", q.resource_version,
                                        "\": must be a non-negative integer"));
  }
  return q;
}


Result<DeleteOptions> ParseDeleteOptions(const RestRequest& r) {
  DeleteOptions options;
  json body = json::object();
  if (!r.http.body.empty()) {
    Result<json> parsed = DecodeBody(r.http);
    if (!parsed.ok()) return parsed.error();
    if (!parsed->is_object()) return BadRequestError("DeleteOptions must be a JSON object");
    body = std::move(*parsed);
  }
  if (body.contains("gracePeriodSeconds") && body["gracePeriodSeconds"].is_number_integer()) {
    options.grace_period_seconds = body["gracePeriodSeconds"].get<int64_t>();
  }
  std::string grace = QueryValue(r.query, "gracePeriodSeconds");
  if (!grace.empty()) {
    int64_t g;
    if (!absl::SimpleAtoi(grace, &g)) {
      return BadRequestError(absl::StrCat("gracePeriodSeconds: Invalid value: \"", grace, "\""));
    }
    options.grace_period_seconds = g;
  }
  const json& pre = body.value("preconditions", json::object());
  if (pre.is_object()) {
    options.precondition_uid = pre.value("uid", "");
    options.precondition_resource_version = pre.value("resourceVersion", "");
  }
  std::string dry_run = QueryValue(r.query, "dryRun");
  if (body.contains("dryRun") && body["dryRun"].is_array() && !body["dryRun"].empty()) {
    dry_run = body["dryRun"][0].get<std::string>();
  }
  if (!dry_run.empty() && dry_run != "All") {
    return BadRequestError(absl::StrCat("dryRun: Unsupported value: \"", dry_run, "\": supported values: \"All\""));
  }
  options.dry_run = dry_run == "All";
  std::string policy = QueryValue(r.query, "propagationPolicy");
  if (policy.empty()) policy = body.value("propagationPolicy", "");
  if (!policy.empty() && policy != "Orphan" && policy != "Background" && policy != "Foreground") {
    return BadRequestError(absl::StrCat("propagationPolicy: Unsupported value: \"", policy,
                                        "\": supported values: \"Orphan\", \"Background\", \"Foreground\""));
  }
  return options;
}

bool IsNamespaceKind(const k8s::kinds::KindInfo& kind) { return kind.group.empty() && kind.kind == "Namespace"; }


}  // namespace berth::apiserver

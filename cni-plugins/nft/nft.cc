#include "cni-plugins/nft/nft.h"

#include <nftables/libnftables.h>

#include <memory>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace berth::cninft {
namespace {

// libnftables keeps some process-wide state (the parser's and the
// realm tables' init); one transaction at a time per process is plenty.
std::mutex& NftMutex() {
  static auto* mu = new std::mutex();
  return *mu;
}

struct CtxDeleter {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};
using Ctx = std::unique_ptr<nft_ctx, CtxDeleter>;

absl::StatusOr<Ctx> NewCtx(bool json) {
  Ctx ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return absl::InternalError("nft_ctx_new failed");
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return absl::InternalError("nft: cannot buffer output");
  }
  if (json) nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON);
  return ctx;
}

absl::Status RunLocked(nft_ctx* ctx, const std::string& commands, absl::string_view what) {
  if (nft_run_cmd_from_buffer(ctx, commands.c_str()) == 0) return absl::OkStatus();
  std::string err = nft_ctx_get_error_buffer(ctx);
  absl::string_view msg = absl::StripAsciiWhitespace(err);
  std::string text = absl::StrCat("nft ", what, ": ", msg.empty() ? "failed" : msg);
  if (absl::StrContains(msg, "No such file or directory")) return absl::NotFoundError(text);
  if (absl::StrContains(msg, "File exists")) return absl::AlreadyExistsError(text);
  if (absl::StrContains(msg, "Operation not permitted")) return absl::PermissionDeniedError(text);
  return absl::InternalError(text);
}

}  // namespace

absl::Status RunBatch(absl::string_view commands, absl::string_view what) {
  std::lock_guard<std::mutex> lock(NftMutex());
  auto ctx = NewCtx(false);
  if (!ctx.ok()) return ctx.status();
  return RunLocked(ctx->get(), std::string(commands), what);
}

absl::StatusOr<nlohmann::json> ListJson(absl::string_view object) {
  std::lock_guard<std::mutex> lock(NftMutex());
  auto ctx = NewCtx(true);
  if (!ctx.ok()) return ctx.status();
  std::string what = absl::StrCat("list ", object);
  if (absl::Status s = RunLocked(ctx->get(), what, what); !s.ok()) return s;
  std::string out = nft_ctx_get_output_buffer(ctx->get());
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array()) {
    return absl::InternalError(absl::StrCat("nft ", what, ": unexpected JSON output: ", out));
  }
  return doc["nftables"];
}

absl::StatusOr<bool> TableExists(absl::string_view family, absl::string_view name) {
  auto listed = ListJson(absl::StrCat("table ", family, " ", name));
  if (listed.ok()) return true;
  if (absl::IsNotFound(listed.status())) return false;
  return listed.status();
}

std::string CommentLiteral(absl::string_view text) {
  std::string out = "\"";
  size_t n = 0;
  for (char c : text) {
    if (n >= 120) break;
    if (c == '"' || c == '\\' || c < 0x20 || c > 0x7e) c = '_';
    out.push_back(c);
    ++n;
  }
  out.push_back('"');
  return out;
}

}  // namespace berth::cninft

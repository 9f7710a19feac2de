// libnftables, loaded when first used. berth-bridge needs nftables only for
// ipMasq, but linking libnftables.so (and libmnl, libnftnl, libxtables,
// libjansson, libgmp behind it) cost every ADD and DEL about as much as the
// rest of the process start. These definitions of the libnftables calls that
// cni-plugins/nft makes dlopen the library on first use and forward to it;
// static_link.sh drops libnftables.so from berth-bridge's link line when this
// file's object is on it. Without the library, nft_ctx_new returns null (the
// nft code reports that as an error).
#include <dlfcn.h>
#include <nftables/libnftables.h>

namespace {

void* Library() {
  static void* handle = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  return handle;
}

template <typename Fn>
Fn Lookup(const char* name) {
  void* handle = Library();
  return handle == nullptr ? nullptr : reinterpret_cast<Fn>(dlsym(handle, name));
}

}  // namespace

#define BERTH_NFT_FORWARD(name) static const auto real = Lookup<decltype(&::name)>(#name)

extern "C" {

struct nft_ctx* nft_ctx_new(uint32_t flags) {
  BERTH_NFT_FORWARD(nft_ctx_new);
  return real == nullptr ? nullptr : real(flags);
}

void nft_ctx_free(struct nft_ctx* ctx) {
  BERTH_NFT_FORWARD(nft_ctx_free);
  if (real != nullptr) real(ctx);
}

void nft_ctx_output_set_flags(struct nft_ctx* ctx, unsigned int flags) {
  BERTH_NFT_FORWARD(nft_ctx_output_set_flags);
  if (real != nullptr) real(ctx, flags);
}

int nft_ctx_buffer_output(struct nft_ctx* ctx) {
  BERTH_NFT_FORWARD(nft_ctx_buffer_output);
  return real == nullptr ? -1 : real(ctx);
}

const char* nft_ctx_get_output_buffer(struct nft_ctx* ctx) {
  BERTH_NFT_FORWARD(nft_ctx_get_output_buffer);
  return real == nullptr ? "" : real(ctx);
}

int nft_ctx_buffer_error(struct nft_ctx* ctx) {
  BERTH_NFT_FORWARD(nft_ctx_buffer_error);
  return real == nullptr ? -1 : real(ctx);
}

const char* nft_ctx_get_error_buffer(struct nft_ctx* ctx) {
  BERTH_NFT_FORWARD(nft_ctx_get_error_buffer);
  return real == nullptr ? "" : real(ctx);
}

int nft_run_cmd_from_buffer(struct nft_ctx* nft, const char* buf) {
  BERTH_NFT_FORWARD(nft_run_cmd_from_buffer);
  return real == nullptr ? -1 : real(nft, buf);
}

}  // extern "C"

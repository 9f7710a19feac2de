#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "controlplane/berthadm/berthadm_cli.h"
#include "controlplane/berthadm/ca_pin.h"
#include "controlplane/berthadm/token_operations.h"

namespace berth::berthadm {

int TokenCreate(const Flags& f) {
  auto ttl = ParseTtl("ttl", f.ttl);
  if (!ttl.ok()) return Fail(std::string(ttl.status().message()));
  auto token = TokenToUse(f.positional.size() > 2 ? f.positional[2] : f.token);
  if (!token.ok()) return Fail(std::string(token.status().message()));
  auto api = ConnectApi(f);
  if (!api.ok()) return Fail(std::string(api.status().message()));
  absl::Status created = CreateToken(*api->client, *token, *ttl, f.description, absl::Now());
  if (!created.ok()) return Fail(std::string(created.message()));
  if (!f.print_join_command) {
    std::cout << token->ToString() << "\n";
    return 0;
  }
  auto hash = CaCertHash(api->credentials.ca_pem);
  if (!hash.ok()) return Fail(absl::StrCat("the kubeconfig's CA: ", hash.status().message()));
  std::cout << "berthadm join " << absl::StripPrefix(api->credentials.server, "https://") << " --token "
            << token->ToString() << " --discovery-token-ca-cert-hash " << *hash << "\n";
  return 0;
}

int TokenList(const Flags& f) {
  auto api = ConnectApi(f);
  if (!api.ok()) return Fail(std::string(api.status().message()));
  auto rows = ListTokens(*api->client, absl::Now());
  if (!rows.ok()) return Fail(std::string(rows.status().message()));
  std::cout << TokenTable(*rows);
  return 0;
}

int TokenDelete(const Flags& f) {
  if (f.positional.size() < 3) return Fail("token delete: name at least one token id or token");
  auto api = ConnectApi(f);
  if (!api.ok()) return Fail(std::string(api.status().message()));
  int failed = 0;
  for (size_t i = 2; i < f.positional.size(); ++i) {
    absl::Status deleted = DeleteToken(*api->client, f.positional[i]);
    if (!deleted.ok()) {
      std::cerr << "berthadm: " << deleted.message() << "\n";
      ++failed;
      continue;
    }
    std::cout << "bootstrap token \"" << f.positional[i].substr(0, f.positional[i].find('.')) << "\" deleted\n";
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace berth::berthadm

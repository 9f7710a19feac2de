// A LocalApiClient over an in-process API server (no HTTPS) on a temporary
// SQLite store, for the client's and its users' unit tests.
#pragma once

#include <stdlib.h>

#include <memory>
#include <string>

#include "common/fs.h"
#include "controlplane/apiserver/api_server.h"
#include "controlplane/client/local_api_client.h"
#include "controlplane/store/store.h"

namespace berth::client {

class LocalApiTestEnv {
 public:
  // Empty on failure (error() says why).
  explicit LocalApiTestEnv(apiserver::ApiServerOptions options = {}) {
    std::string tmpl = "/tmp/berth-local-api-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      error_ = absl::InternalError("mkdtemp failed");
      return;
    }
    root_ = tmpl;
    auto store = store::OpenStore("sqlite://" + root_ + "/db");
    if (!store.ok()) {
      error_ = store.status();
      return;
    }
    store_ = std::move(*store);
    options.serve_https = false;
    auto server = apiserver::ApiServer::Start(options, store_.get());
    if (!server.ok()) {
      error_ = server.status();
      return;
    }
    server_ = std::move(*server);
    client_ = std::make_unique<LocalApiClient>(server_.get());
  }
  ~LocalApiTestEnv() {
    client_.reset();
    server_.reset();
    store_.reset();
    if (!root_.empty()) (void)RemoveAll(root_);
  }

  const absl::Status& error() const { return error_; }
  LocalApiClient* client() { return client_.get(); }
  apiserver::ApiServer* server() { return server_.get(); }
  store::Store* store() { return store_.get(); }

 private:
  absl::Status error_;
  std::string root_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<apiserver::ApiServer> server_;
  std::unique_ptr<LocalApiClient> client_;
};

}  // namespace berth::client

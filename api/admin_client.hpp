#pragma once
// How CLI commands reach a server running on the same data folder (RocksDB admits one writer
// process): the address in server.json and the token in admin.token, over loopback HTTP.
#include <optional>
#include <string>

#include "domain/result.hpp"

namespace onair::api {

struct admin_reply {
  int status = 0;
  std::string body;
};

class admin_client {
public:
  // A client for the server holding data_dir, if one is running there.
  static std::optional<admin_client> find(const std::string& data_dir);
  // A client of any onair server's API, with an Authorization header ("Basic …"; may be empty).
  static admin_client at(std::string host, int port, const std::string& authorization);
  domain::result<admin_reply> call(const std::string& method, const std::string& path, const std::string& body = {});

private:
  std::string host_;
  int port_ = 0;
  std::string credentials_; // the header line that authenticates each request, CRLF-terminated
};

} // namespace onair::api

#include "api/idempotency.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

namespace onair::api {

namespace {

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

bool valid_key(const std::string& key, std::size_t max_chars) {
  if (key.empty() || key.size() > max_chars)
    return false;
  for (const unsigned char c : key)
    if (c < 0x21 || c > 0x7e)
      return false;
  return true;
}

// Worth remembering: the answer says what became of the request, not that it could not be tried.
bool keep(const http_response& resp) {
  return resp.status < 500 && resp.status != 401 && resp.status != 429;
}

} // namespace

idempotency_cache::idempotency_cache(options opts) : opts_(std::move(opts)) {}

std::size_t idempotency_cache::size() const {
  std::lock_guard lock{mu_};
  return entries_.size();
}

void idempotency_cache::handle(const http_request& req, responder respond, const http_handler& next) {
  auto key_it = req.headers.find("idempotency-key");
  if (req.method != "POST" || key_it == req.headers.end())
    return next(req, std::move(respond));
  const std::string& key = key_it->second;
  if (!valid_key(key, opts_.max_key_chars))
    return respond(error_response(400, "INVALID_PARAMETER",
                                  "Idempotency-Key must be 1-" + std::to_string(opts_.max_key_chars) +
                                      " visible ASCII characters",
                                  "Idempotency-Key"));

  std::string scope = sha256(req.header("authorization"));
  scope += '\n';
  scope += req.method + ' ' + req.path + '\n' + key;
  const std::string fingerprint = sha256(req.body);
  {
    std::lock_guard lock{mu_};
    const auto now = opts_.now();
    evict(now);
    auto it = entries_.find(scope);
    if (it != entries_.end()) {
      if (it->second.fingerprint != fingerprint)
        return respond(error_response(422, "IDEMPOTENCY_KEY_REUSED",
                                      "this Idempotency-Key was used with another request body",
                                      "Idempotency-Key"));
      if (!it->second.response)
        return respond(error_response(409, "REQUEST_LOCKED",
                                      "a request with this Idempotency-Key is still being processed",
                                      "Idempotency-Key"));
      auto replay = *it->second.response;
      replay.headers.emplace_back("Idempotent-Replayed", "true");
      spdlog::debug("idempotent replay path={} status={}", req.path, replay.status);
      return respond(std::move(replay));
    }
    entries_.emplace(scope, entry{fingerprint, std::nullopt, now});
    order_.emplace_back(now, scope);
  }
  next(req, [this, scope, respond = std::move(respond)](http_response resp) {
    finish(scope, resp);
    respond(std::move(resp));
  });
}

void idempotency_cache::finish(const std::string& scope, const http_response& resp) {
  std::lock_guard lock{mu_};
  auto it = entries_.find(scope);
  if (it == entries_.end())
    return;
  if (keep(resp))
    it->second.response = resp;
  else
    entries_.erase(it); // a retry runs again
}

void idempotency_cache::evict(std::chrono::steady_clock::time_point now) {
  while (!order_.empty() && (order_.front().first + opts_.ttl <= now || entries_.size() > opts_.max_entries)) {
    auto it = entries_.find(order_.front().second);
    // Only the entry this queue slot was made for (a key retried after a 5xx has a newer slot);
    // and a request still running is never dropped from under its answer.
    if (it != entries_.end() && it->second.at == order_.front().first) {
      if (!it->second.response && entries_.size() <= opts_.max_entries)
        break;
      entries_.erase(it);
    }
    order_.pop_front();
  }
}

} // namespace onair::api

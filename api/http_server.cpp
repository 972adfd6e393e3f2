#include "api/http_server.hpp"
#include "api/work_pool.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <random>
#include <string_view>
#include <unordered_map>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/log_context.hpp"
#include "domain/provenance.hpp"

namespace onair::api {

using domain::error_code;
using domain::make_error;

domain::result<listen_address> parse_listen_address(const std::string& text) {
  listen_address out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error(error_code::invalid_parameter, "'" + text + "' is not [IPV6]:PORT");
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return make_error(error_code::invalid_parameter, "'" + text + "' is not ADDRESS:PORT (e.g. 127.0.0.1:8080)");
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || p != port.data() + port.size() || value > 65535)
    return make_error(error_code::invalid_parameter, "bad port '" + port + "' in '" + text + "' (0-65535)");
  out.port = static_cast<std::uint16_t>(value);
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, out.host.c_str(), buf) != 1 && inet_pton(AF_INET6, out.host.c_str(), buf) != 1)
    return make_error(error_code::invalid_parameter, "'" + out.host + "' is not an IP address");
  return out;
}

http_response json_response(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http_response error_response(int status, const std::string& code, const std::string& message,
                             const std::string& field) {
  nlohmann::json j{{"errorCode", code}, {"errorMessage", message}, {"status", status}, {"title", code},
                   {"detail", message}};
  if (!field.empty())
    j["field"] = field;
  // Messages may quote request bytes (a path, an id) that are not UTF-8: replaced, never thrown on.
  return json_response(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

namespace {

// A request id for a request that brought none: 128 bits from a per-thread generator, in hex. It
// names a request in logs and the audit trail; it is not a secret.
std::string new_request_id() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    auto v = gen();
    for (int i = 0; i < 16; ++i, v >>= 4)
      out[half * 16 + i] = digits[v & 0xf];
  }
  return out;
}


using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// Why a request is refused before evhttp reads it.
struct refusal {
  int status = 0;
  std::string code;
  std::string message;
};

bool is_tchar(unsigned char c) {
  return std::isalnum(c) != 0 || (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The methods routes are made for; any other is answered 501 (evhttp would say so in HTML).
constexpr std::array<std::string_view, 7> implemented_methods{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

bool is_implemented(std::string_view method) {
  return std::find(implemented_methods.begin(), implemented_methods.end(), method) != implemented_methods.end();
}

// One request's bytes as they come, read as far as its framing and the limits go (sans I/O): the
// head line by line, then a chunked body's sizes, data and trailer. Where evhttp 2.1 is lax (bare
// CR, folded lines, a target with spaces, sizes in any strtoll form, chunk lines of any length) this
// is strict, so that what passes here evhttp frames the same way and takes; what does not is
// refused with the API's error. Line ends are CRLF or, as evhttp also reads them, a bare LF.
class request_scanner {
public:
  struct limits {
    std::size_t head_bytes;   // request line, fields and trailer, line ends included
    std::size_t target_bytes; // the request target
    std::size_t body_bytes;   // Content-Length, or the chunks' sizes together
  };
  enum class step {
    more,    // all the bytes given were taken; the request goes on
    head,    // the head ends at `used`; chunked() says how the body is framed
    end,     // the request (a chunked one) ends at `used`
    refused, // see why()
  };
  struct progress {
    step what;
    std::size_t used;
  };

  explicit request_scanner(limits l) : limits_{l} {}

  // Bytes of the request, in order, in pieces of any size (not after `end` or `refused`).
  progress consume(std::string_view in) {
    std::size_t i = 0;
    while (i < in.size()) {
      switch (state_) {
      case state::request_line:
      case state::field_line:
      case state::trailer_line: {
        const auto lf = in.find('\n', i);
        const auto taken = (lf == std::string_view::npos ? in.size() : lf + 1) - i;
        head_used_ += taken;
        const bool first = state_ == state::request_line;
        if (first && (head_used_ > limits_.head_bytes || head_used_ > limits_.target_bytes + request_line_slack)) {
          note_method(in.substr(i, std::min(taken, request_line_slack)));
          return refuse(414, "URI_TOO_LONG", "the request target is longer than " +
                                                 std::to_string(limits_.target_bytes) + " bytes");
        }
        if (head_used_ > limits_.head_bytes)
          return refuse(431, "REQUEST_HEADER_FIELDS_TOO_LARGE",
                        "the request head is larger than " + std::to_string(limits_.head_bytes) + " bytes");
        line_.append(in.substr(i, taken));
        i += taken;
        if (lf == std::string_view::npos) {
          // Not a request at all (a TLS hello, say): no need to wait for a line end.
          if (first && !method_so_far_fits())
            return refuse(400, "BAD_REQUEST", "the request line is not METHOD TARGET HTTP/1.1");
          break;
        }
        line_.pop_back();
        if (!line_.empty() && line_.back() == '\r')
          line_.pop_back();
        const auto what = first ? request_line_done() : state_ == state::field_line ? field_line_done() : trailer_line_done();
        line_.clear();
        if (what != step::more)
          return {what, i};
        break;
      }
      case state::chunk_size: {
        const auto c = static_cast<unsigned char>(in[i++]);
        if (std::isxdigit(c) != 0 && !saw_cr_) {
          if (++size_digits_ > 16)
            return refuse(400, "BAD_REQUEST", "a chunk size has more than 16 digits");
          chunk_left_ = chunk_left_ * 16 + static_cast<std::uint64_t>(std::isdigit(c) != 0 ? c - '0' : (c | 0x20) - 'a' + 10);
        } else if (c == '\r' && size_digits_ > 0 && !saw_cr_) {
          saw_cr_ = true;
        } else if (c == '\n' && size_digits_ > 0) {
          if (chunk_left_ > limits_.body_bytes - body_seen_)
            return refuse(413, "CONTENT_TOO_LARGE",
                          "the request body is larger than " + std::to_string(limits_.body_bytes) + " bytes");
          body_seen_ += chunk_left_;
          state_ = chunk_left_ == 0 ? state::trailer_line : state::chunk_data;
          size_digits_ = 0;
          saw_cr_ = false;
        } else {
          // Extensions too: evhttp cannot read them.
          return refuse(400, "BAD_REQUEST", "a chunk size line is not HEX CRLF");
        }
        break;
      }
      case state::chunk_data: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, in.size() - i));
        i += n;
        chunk_left_ -= n;
        if (chunk_left_ == 0)
          state_ = state::chunk_data_end;
        break;
      }
      case state::chunk_data_end: {
        const auto c = in[i++];
        if (c == '\r' && !saw_cr_) {
          saw_cr_ = true;
        } else if (c == '\n') {
          saw_cr_ = false;
          state_ = state::chunk_size;
        } else {
          return refuse(400, "BAD_REQUEST", "a chunk's data does not end where its size says");
        }
        break;
      }
      case state::done:
        return {step::end, 0};
      case state::refused:
        return {step::refused, 0};
      }
    }
    return {step::more, in.size()};
  }

  [[nodiscard]] bool chunked() const { return chunked_; }
  // What a whole head said (after step::head).
  [[nodiscard]] const std::string& target() const { return target_; }
  [[nodiscard]] const std::string& host() const { return host_; }
  [[nodiscard]] const std::string& user_agent() const { return user_agent_; }
  [[nodiscard]] int minor_version() const { return minor_; }
  // A body follows (Content-Length above 0, or chunked), or the client waits for 100 Continue.
  [[nodiscard]] bool body_or_expectation() const {
    return chunked_ || length_.find_first_not_of('0') != std::string::npos || !expect_.empty();
  }
  // The connection stays open after the answer: HTTP/1.1 unless it says close, HTTP/1.0 only if
  // it says keep-alive.
  [[nodiscard]] bool keep_alive() const {
    const auto says = [this](std::string_view token) {
      std::string_view list{connection_};
      while (!list.empty()) {
        const auto comma = list.find(',');
        if (same_ignoring_case(trim_ows(list.substr(0, comma)), token))
          return true;
        list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
      }
      return false;
    };
    return minor_ >= 1 ? !says("close") : says("keep-alive");
  }
  // Refuses a target evhttp's parser cannot read (checked only for requests evhttp is to read:
  // the server reads media requests itself). False when refused (see why()).
  bool check_target_for_evhttp() {
    evhttp_uri* uri = evhttp_uri_parse_with_flags(target_.c_str(), EVHTTP_URI_NONCONFORMANT);
    if (uri == nullptr)
      return refuse(400, "BAD_REQUEST", "the request target is not a URI").what != step::refused;
    evhttp_uri_free(uri);
    return true;
  }
  // The method, once the request line is read ("" before, or when it is not a token).
  [[nodiscard]] const std::string& method() const { return method_; }
  [[nodiscard]] const refusal& why() const { return why_; }

private:
  enum class state { request_line, field_line, chunk_size, chunk_data, chunk_data_end, trailer_line, done, refused };
  // What a request line holds besides its target: a method, two spaces and "HTTP/1.1".
  static constexpr std::size_t request_line_slack = 32;

  progress refuse(int status, std::string code, std::string message) {
    state_ = state::refused;
    why_ = {status, std::move(code), std::move(message)};
    return {step::refused, 0};
  }

  // The method of a request line refused before its end (a HEAD is answered without a body).
  void note_method(std::string_view more) {
    const std::string start = line_ + std::string{more};
    const auto method = std::string_view{start}.substr(0, start.find(' '));
    if (method.size() < start.size() && is_token(method))
      method_ = method;
  }

  // Whether the start of an unfinished request line can still be one: a token, then a space.
  [[nodiscard]] bool method_so_far_fits() const {
    const std::string_view line{line_};
    const auto method = line.substr(0, line.find(' '));
    return line.empty() || (is_token(method) && method.size() <= request_line_slack);
  }

  step request_line_done() {
    const std::string_view line{line_};
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos || sp2 == sp1 + 1)
      return refuse(400, "BAD_REQUEST", "the request line is not METHOD TARGET HTTP/1.1").what;
    const auto method = line.substr(0, sp1);
    const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const auto version = line.substr(sp2 + 1);
    if (!is_token(method) || std::any_of(target.begin(), target.end(), [](char c) {
          return static_cast<unsigned char>(c) <= ' ' || c == '\x7f';
        }))
      return refuse(400, "BAD_REQUEST", "the request line is not METHOD TARGET HTTP/1.1").what;
    method_ = method;
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || std::isdigit(static_cast<unsigned char>(version[5])) == 0 ||
        version[6] != '.' || std::isdigit(static_cast<unsigned char>(version[7])) == 0)
      return refuse(400, "BAD_REQUEST", "the request line is not METHOD TARGET HTTP/1.1").what;
    if (version[5] != '1')
      return refuse(505, "HTTP_VERSION_NOT_SUPPORTED", std::string{version} + " is not supported: use HTTP/1.1").what;
    if (!is_implemented(method))
      return refuse(501, "NOT_IMPLEMENTED", "the method " + method_ + " is not implemented").what;
    if (target.size() > limits_.target_bytes)
      return refuse(414, "URI_TOO_LONG", "the request target is longer than " + std::to_string(limits_.target_bytes) +
                                             " bytes").what;
    target_ = target;
    minor_ = version[7] - '0';
    state_ = state::field_line;
    return step::more;
  }

  // "name: value", the name a token, the value without control characters; no folded lines.
  step check_field(std::string_view& name, std::string_view& value) {
    const std::string_view line{line_};
    const auto colon = line.find(':');
    name = line.substr(0, colon);
    if (colon == std::string_view::npos || !is_token(name))
      return refuse(400, "BAD_REQUEST", "a header line is not NAME: VALUE").what;
    value = trim_ows(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return (u < ' ' && u != '\t') || u == 0x7f;
        }))
      return refuse(400, "BAD_REQUEST", "the header " + std::string{name} + " holds control characters").what;
    return step::more;
  }

  step field_line_done() {
    if (line_.empty())
      return head_done();
    std::string_view name, value;
    if (check_field(name, value) == step::refused)
      return step::refused;
    if (same_ignoring_case(name, "content-length")) {
      if (!length_.empty() && length_ != value)
        return refuse(400, "BAD_REQUEST", "the request has two different Content-Length headers").what;
      if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return refuse(400, "BAD_REQUEST", "Content-Length is not a number").what;
      length_ = value;
    } else if (same_ignoring_case(name, "transfer-encoding")) {
      if (!coding_.empty() || value.empty())
        return refuse(400, "BAD_REQUEST", "Transfer-Encoding must be given once, and not empty").what;
      coding_ = value;
    } else if (same_ignoring_case(name, "expect")) {
      expect_ = value;
    } else if (same_ignoring_case(name, "host")) {
      host_ = value;
    } else if (same_ignoring_case(name, "user-agent")) {
      user_agent_ = value;
    } else if (same_ignoring_case(name, "connection")) {
      connection_ = value;
    }
    return step::more;
  }

  step head_done() {
    if (!coding_.empty()) {
      if (!same_ignoring_case(coding_, "chunked"))
        return refuse(501, "NOT_IMPLEMENTED", "Transfer-Encoding " + coding_ + " is not implemented (chunked is)").what;
      if (!length_.empty())
        return refuse(400, "BAD_REQUEST", "the request has both Content-Length and Transfer-Encoding").what;
    }
    const bool body_said = !coding_.empty() || length_.find_first_not_of('0') != std::string::npos;
    // evhttp reads no body after HEAD: what came would be taken for the next request.
    if (method_ == "HEAD" && body_said)
      return refuse(400, "BAD_REQUEST", "a HEAD request has no body").what;
    if (!expect_.empty() && !same_ignoring_case(expect_, "100-continue"))
      return refuse(417, "EXPECTATION_FAILED", "Expect: 100-continue is the only expectation met").what;
    const auto digits = length_.find_first_not_of('0');
    if (digits != std::string::npos &&
        (length_.size() - digits > 18 || std::stoull(length_.substr(digits)) > limits_.body_bytes))
      return refuse(413, "CONTENT_TOO_LARGE",
                    "the request body is larger than " + std::to_string(limits_.body_bytes) + " bytes").what;
    chunked_ = !coding_.empty();
    state_ = chunked_ ? state::chunk_size : state::done;
    return step::head;
  }

  step trailer_line_done() {
    if (line_.empty()) {
      state_ = state::done;
      return step::end;
    }
    std::string_view name, value;
    return check_field(name, value);
  }

  limits limits_;
  state state_ = state::request_line;
  std::string line_; // the line being read
  std::size_t head_used_ = 0;
  std::string method_;
  std::string length_; // Content-Length as sent
  std::string coding_; // Transfer-Encoding as sent
  std::string expect_;
  std::string target_;
  int minor_ = 1; // HTTP/1.x
  std::string host_;
  std::string user_agent_;
  std::string connection_;
  bool chunked_ = false;
  std::uint64_t chunk_left_ = 0; // the size being read, then the data still to come
  std::size_t size_digits_ = 0;
  bool saw_cr_ = false;
  std::uint64_t body_seen_ = 0;
  refusal why_;
};

// The Date header's value for answers written here (not by evhttp), made once a second per
// thread; "" if the clock cannot be read.
std::string_view http_date() {
  thread_local std::time_t made = 0;
  thread_local char text[64] = "";
  const std::time_t now = std::time(nullptr);
  if (now != made) {
    std::tm utc{};
    if (gmtime_r(&now, &utc) == nullptr || evutil_date_rfc1123(text, sizeof text, &utc) <= 0)
      text[0] = '\0';
    made = now;
  }
  return text;
}

// The whole answer to a refused request, as bytes: evhttp never read the request, so it cannot
// send this.
std::string refusal_answer(const refusal& why, bool head_request) {
  const auto resp = error_response(why.status, why.code, why.message);
  std::string out = "HTTP/1.1 " + std::to_string(why.status) + " " + net::reason_phrase(why.status) + "\r\n";
  if (const auto date = http_date(); !date.empty())
    out += "Date: " + std::string{date} + "\r\n";
  out += "Content-Type: " + resp.content_type + "\r\nContent-Length: " + std::to_string(resp.body.size()) +
         "\r\nConnection: close\r\n\r\n";
  if (!head_request)
    out += resp.body;
  return out;
}

// Sends resp as the complete reply to req (evhttp takes the request back).
void send_response(evhttp_request* req, const http_response& resp) {
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  if (!resp.content_type.empty())
    evhttp_add_header(out, "Content-Type", resp.content_type.c_str());
  for (const auto& [k, v] : resp.headers)
    evhttp_add_header(out, k.c_str(), v.c_str());
  evbuffer* body = evbuffer_new();
  evbuffer_add(body, resp.body.data(), resp.body.size());
  evhttp_send_reply(req, resp.status, nullptr, body);
  evbuffer_free(body);
}

// One chunked reply. State is touched on the loop thread only; the public calls post there.
class stream_impl final : public http_stream, public std::enable_shared_from_this<stream_impl> {
public:
  stream_impl(net::event_loop& loop, http_metrics& metrics, evhttp_request* req, http_request meta, int timeout_seconds)
      : loop_(loop), metrics_(metrics), req_(req), route_(std::move(meta.route)), method_(std::move(meta.method)),
        timeout_seconds_(timeout_seconds) {}

  void respond(http_response resp) override {
    loop_.post([self = shared_from_this(), resp = std::move(resp)] {
      if (self->req_ == nullptr || self->started_ || self->done_)
        return;
      self->metrics_.observe(self->route_, self->method_, resp.status, seconds_since(self->t0_));
      self->done_ = true;
      send_response(std::exchange(self->req_, nullptr), resp);
    });
  }

  void start(int status, std::vector<std::pair<std::string, std::string>> headers) override {
    loop_.post([self = shared_from_this(), status, headers = std::move(headers)] {
      if (self->req_ == nullptr || self->started_ || self->done_)
        return;
      evkeyvalq* out = evhttp_request_get_output_headers(self->req_);
      for (const auto& [k, v] : headers)
        evhttp_add_header(out, k.c_str(), v.c_str());
      self->started_ = true;
      self->metrics_.observe(self->route_, self->method_, status, seconds_since(self->t0_));
      evhttp_send_reply_start(self->req_, status, nullptr);
      // The client sends nothing more: only writes may time out.
      if (evhttp_connection* con = evhttp_request_get_connection(self->req_)) {
        const timeval write_tv{self->timeout_seconds_, 0};
        bufferevent_set_timeouts(evhttp_connection_get_bufferevent(con), nullptr, &write_tv);
      }
    });
  }

  void send(std::string chunk) override {
    loop_.post([self = shared_from_this(), chunk = std::move(chunk)] {
      if (self->req_ == nullptr || !self->started_ || self->done_ || chunk.empty())
        return;
      evbuffer* buf = evbuffer_new();
      evbuffer_add(buf, chunk.data(), chunk.size());
      evhttp_send_reply_chunk(self->req_, buf);
      evbuffer_free(buf);
    });
  }

  void end() override {
    loop_.post([self = shared_from_this()] {
      if (self->req_ == nullptr || !self->started_ || self->done_)
        return;
      self->done_ = true;
      self->close_fn_ = nullptr;
      evhttp_send_reply_end(std::exchange(self->req_, nullptr));
    });
  }

  void on_close(std::function<void()> fn) override {
    loop_.post([self = shared_from_this(), fn = std::move(fn)]() mutable {
      if (self->closed_) {
        if (fn)
          fn();
        return;
      }
      if (!self->done_)
        self->close_fn_ = std::move(fn);
    });
  }

  [[nodiscard]] std::size_t buffered() const override {
    if (req_ == nullptr)
      return 0;
    evhttp_connection* con = evhttp_request_get_connection(req_);
    return con ? evbuffer_get_length(bufferevent_get_output(evhttp_connection_get_bufferevent(con))) : 0;
  }

  [[nodiscard]] net::event_loop& loop() const override { return loop_; }

  [[nodiscard]] bool finished() const { return done_ || closed_; }

  // The connection is going away (loop thread, or the stopping thread once the loop is gone).
  void closed() {
    if (closed_)
      return;
    closed_ = true;
    // A reply still in progress was detached from its connection by evhttp and is ours to free;
    // one still attached is freed with the connection.
    if (req_ != nullptr && evhttp_request_get_connection(req_) == nullptr && !done_)
      evhttp_request_free(req_);
    req_ = nullptr;
    if (auto fn = std::exchange(close_fn_, nullptr))
      fn();
  }

private:
  net::event_loop& loop_;
  http_metrics& metrics_;
  evhttp_request* req_;
  std::string route_;
  std::string method_;
  int timeout_seconds_;
  steady::time_point t0_ = steady::now();
  bool started_ = false;
  bool done_ = false;
  bool closed_ = false;
  std::function<void()> close_fn_;
};

} // namespace

struct http_server::impl {
  struct connection_gate;

  // One event loop with its evhttp and the connections it accepted (touched on its thread only).
  struct worker {
    impl* server = nullptr;
    net::event_loop loop;
    evhttp* http = nullptr;
    // What is told when a connection goes: its stream, or what its raw route gave its close_watch.
    struct tracked {
      std::shared_ptr<stream_impl> stream;
      std::function<void()> on_close;
      std::shared_ptr<connection_gate> gate;
      bool admitted = false; // its first request was let past max_connections
    };
    // Connections open (for the gauge and to tell streams and raw routes their client left).
    std::unordered_map<evhttp_connection*, tracked> connections;
    // Gates of connections evhttp is still setting up, until their first kick.
    std::unordered_map<connection_gate*, std::shared_ptr<connection_gate>> accepting;
  };

  // A connection's requests, read before evhttp reads them (see the top of the header). evhttp
  // (libevent 2.1) has no hook for this: it answers what it will not take with an HTML page and
  // frees the connection at once, resetting a client still sending. So the gate makes each
  // connection's bufferevent (evhttp_set_bevcb) and stands in for evhttp's callbacks on it while a
  // request is read: a head is held back from evhttp until it is whole and passes the scanner, a
  // chunked body is scanned before evhttp reads each piece, and a refused request is answered here,
  // after which evhttp is only asked to free the connection, once the lingering ends.
  // evhttp puts its own callbacks back when it writes an answer and when it starts on the next
  // request. The answer's completion (on_request_complete) tells the gate, which holds back what
  // already came (evhttp would read it at once, unchecked) until a kick on the loop, or new bytes,
  // let it stand in again. Loop thread only.
  struct connection_gate : std::enable_shared_from_this<connection_gate> {
    enum class phase {
      accepting, // evhttp is setting the connection up
      head,      // a request's head is read here; evhttp has none of it
      chunked,   // evhttp reads a chunked body, each piece scanned first
      passed,    // evhttp reads (or has read) the rest of the request
      lingering, // refused and answered; dropping what comes until the connection closes
    };

    connection_gate(worker& w, bufferevent* bev) : w_{w}, bev_{bev}, scanner_{scan_limits()} {}
    connection_gate(const connection_gate&) = delete;
    connection_gate& operator=(const connection_gate&) = delete;
    ~connection_gate() { release(); }

    // evhttp_set_bevcb: the bufferevent evhttp would make itself, with a gate on it.
    static bufferevent* make_bufferevent(event_base* base, void* arg) {
      auto* w = static_cast<worker*>(arg);
      bufferevent* bev = bufferevent_socket_new(base, -1, 0);
      if (bev == nullptr)
        return nullptr; // evhttp tries to make its own
      auto g = std::make_shared<connection_gate>(*w, bev);
      g->input_cb_ = evbuffer_add_cb(bufferevent_get_input(bev), &connection_gate::on_input, g.get());
      g->kick_ = event_new(base, -1, 0, &connection_gate::on_kick, g.get());
      if (g->input_cb_ == nullptr || g->kick_ == nullptr) {
        g->detach();
        return bev; // ungated
      }
      // Held until the first kick sees whether evhttp set the connection up (or freed it).
      bufferevent_incref(bev);
      // A whole request fits; past it the client waits while evhttp takes what came.
      const auto& o = w->server->opts;
      bufferevent_setwatermark(bev, EV_READ, 0, o.max_header_bytes + o.max_body_bytes + (64 << 10));
      // Runs in this turn of the loop, after evhttp has made the connection and before any read.
      event_active(g->kick_, EV_TIMEOUT, 1);
      w->accepting.emplace(g.get(), std::move(g));
      return bev;
    }

    // evhttp sent an answer and starts on the connection's next request.
    void answered() {
      next_request_ = true;
      evbuffer* in = bufferevent_get_input(bev_);
      if (evbuffer_get_length(in) > 0) {
        if (held_ == nullptr)
          held_ = evbuffer_new();
        if (held_ != nullptr)
          evbuffer_add_buffer(held_, in);
      }
      event_active(kick_, EV_TIMEOUT, 1);
    }

    // The connection is being freed: nothing of the gate stays on it.
    void detach() {
      media_.reset(); // an answer still waiting (for a part) holds the gate: the cycle ends here
      if (input_cb_ != nullptr)
        evbuffer_remove_cb_entry(bufferevent_get_input(bev_), std::exchange(input_cb_, nullptr));
      release();
      closed_ = true;
    }

    // Its events and held bytes (whether or not the bufferevent is still there).
    void release() {
      closed_ = true; // a media answer still held writes nothing
      media_.reset();
      if (kick_ != nullptr)
        event_free(std::exchange(kick_, nullptr));
      if (deadline_ != nullptr)
        event_free(std::exchange(deadline_, nullptr));
      if (held_ != nullptr)
        evbuffer_free(std::exchange(held_, nullptr));
    }

    [[nodiscard]] bool closed() const { return closed_; }
    [[nodiscard]] bufferevent* bev() const { return bev_; }

  private:
    [[nodiscard]] request_scanner::limits scan_limits() const {
      const auto& o = w_.server->opts;
      return {o.max_header_bytes, o.max_target_bytes, o.max_body_bytes};
    }

    // The gate a callback is for: the bufferevent's argument (evhttp's deferred read passes its own).
    static std::shared_ptr<connection_gate> of(bufferevent* bev) {
      void* arg = nullptr;
      bufferevent_getcb(bev, nullptr, nullptr, nullptr, &arg);
      return static_cast<connection_gate*>(arg)->shared_from_this();
    }

    static void on_kick(evutil_socket_t, short, void* arg) {
      auto self = static_cast<connection_gate*>(arg)->shared_from_this();
      if (self->phase_ == phase::accepting)
        return self->adopt();
      if (!self->take_over()) {
        // Not reading, after an answer: cannot be, as evhttp works. Fail open, to evhttp.
        spdlog::warn("http connection not gated: evhttp is not reading its next request");
        if (self->held_ != nullptr)
          evbuffer_prepend_buffer(bufferevent_get_input(self->bev_), self->held_);
        return;
      }
      if ((self->held_ != nullptr && evbuffer_get_length(self->held_) > 0) ||
          evbuffer_get_length(bufferevent_get_input(self->bev_)) > 0)
        self->pump();
    }

    // Bytes came in; the bufferevent hands them to its read callback next. After an answer the
    // gate stands in again first.
    static void on_input(evbuffer*, const evbuffer_cb_info* info, void* arg) {
      auto* g = static_cast<connection_gate*>(arg);
      if (info->n_added > 0 && g->next_request_ && g->phase_ != phase::accepting)
        g->take_over();
    }

    void adopt() {
      auto node = w_.accepting.extract(this);
      if (node.empty())
        return;
      auto self = std::move(node.mapped());
      bufferevent_data_cb read = nullptr;
      bufferevent_data_cb write = nullptr;
      bufferevent_event_cb event = nullptr;
      void* con = nullptr;
      bufferevent_getcb(bev_, &read, &write, &event, &con);
      if (read == nullptr || event == nullptr || con == nullptr) { // evhttp could not set it up, and freed it
        detach();
        bufferevent_decref(bev_);
        return;
      }
      bufferevent_decref(bev_); // evhttp's reference holds it from here
      http_read_ = read;
      http_write_ = write;
      http_event_ = event;
      evcon_ = static_cast<evhttp_connection*>(con);
      w_.server->track(w_, evcon_).gate = self;
      // Every answer leaves whole, in one write: none waits for the client's delayed ACK.
      const int one = 1;
      ::setsockopt(bufferevent_getfd(bev_), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      bufferevent_set_max_single_write(bev_, 1 << 20);
      next_request_ = true;
      take_over();
    }

    // Stands in for evhttp's callbacks while it reads a request (from the start of one after an
    // answer). False when evhttp is not reading.
    bool take_over() {
      bufferevent_data_cb read = nullptr;
      bufferevent_getcb(bev_, &read, nullptr, nullptr, nullptr);
      if (read == &connection_gate::on_read)
        return true;
      if (read == nullptr || read != http_read_)
        return false;
      if (next_request_) {
        next_request_ = false;
        next_head();
      }
      bufferevent_setcb(bev_, &connection_gate::on_read, &connection_gate::on_write, &connection_gate::on_event, this);
      return true;
    }

    static void on_read(bufferevent* bev, void*) { of(bev)->pump(); }

    // The output drained. evhttp's own write callback runs only for what evhttp wrote while the
    // gate stood in (100 Continue): after an answer of evhttp's, the callback it leaves set would
    // take the next request for answered.
    static void on_write(bufferevent* bev, void*) {
      auto self = of(bev);
      if (self->closing_after_media_)
        return self->close();
      if (std::exchange(self->evhttp_writing_, false))
        return self->http_write_(bev, self->evcon_);
      // A media answer left: no more polling for writability until one does not leave at once.
      bufferevent_disable(bev, EV_WRITE);
    }

    static void on_event(bufferevent* bev, short what, void*) {
      auto self = of(bev);
      self->http_event_(bev, what, self->evcon_);
    }

    // What came goes to evhttp once checked; a head only once it is whole. Media requests are
    // answered here instead, one at a time: what comes after one waits until it is answered.
    void pump() {
      in_pump_ = true;
      struct leave {
        bool& flag;
        ~leave() { flag = false; }
      } on_return{in_pump_};
      evbuffer* in = bufferevent_get_input(bev_);
      if (held_ != nullptr && evbuffer_get_length(held_) > 0)
        evbuffer_prepend_buffer(in, held_);
      for (;;) {
        if (media_ || closing_after_media_ || closed_)
          return;
        if (std::exchange(media_answered_, false))
          next_head();
        if (phase_ != phase::head && phase_ != phase::chunked)
          break;
        const auto r = scan();
        if (r == scan_result::refused)
          return; // refused and answered
        if (r == scan_result::more)
          break;
      }
      if (phase_ == phase::head)
        return;
      const std::size_t out_before = evbuffer_get_length(bufferevent_get_output(bev_));
      http_read_(bev_, evcon_);
      if (closed_)
        return;
      // evhttp wrote while reading (100 Continue): the write callback is its own again.
      if (evbuffer_get_length(bufferevent_get_output(bev_)) > out_before)
        evhttp_writing_ = true;
      // evhttp puts its own callbacks back to read on after a 100 Continue, and to start on the
      // next request when an answer ended at once.
      take_over();
      scanned_ = evbuffer_get_length(in); // what evhttp left it has been shown
    }

    // Scans what evhttp has not been shown yet.
    enum class scan_result {
      more,    // evhttp reads on (phase passed), or the head is not whole yet
      refused, // answered here, lingering
      media,   // a media request, taken off the input and being answered here (media_)
    };
    scan_result scan() {
      evbuffer* in = bufferevent_get_input(bev_);
      const std::size_t length = evbuffer_get_length(in);
      while (scanned_ < length && (phase_ == phase::head || phase_ == phase::chunked)) {
        evbuffer_ptr at{};
        if (evbuffer_ptr_set(in, &at, scanned_, EVBUFFER_PTR_SET) != 0)
          return scan_result::more;
        std::array<evbuffer_iovec, 8> v{};
        const int n = std::min(evbuffer_peek(in, static_cast<ev_ssize_t>(length - scanned_), &at, v.data(),
                                             static_cast<int>(v.size())),
                               static_cast<int>(v.size()));
        for (int k = 0; k < n && scanned_ < length && (phase_ == phase::head || phase_ == phase::chunked); ++k) {
          std::string_view bytes{static_cast<const char*>(v[k].iov_base), std::min(v[k].iov_len, length - scanned_)};
          while (!bytes.empty() && (phase_ == phase::head || phase_ == phase::chunked)) {
            const auto p = scanner_.consume(bytes);
            scanned_ += p.used;
            bytes.remove_prefix(p.used);
            switch (p.what) {
            case request_scanner::step::more: break;
            case request_scanner::step::head:
              if (media_route_for_head())
                return scan_result::media;
              if (!scanner_.check_target_for_evhttp()) {
                refuse();
                return scan_result::refused;
              }
              phase_ = scanner_.chunked() ? phase::chunked : phase::passed;
              break;
            case request_scanner::step::end: phase_ = phase::passed; break;
            case request_scanner::step::refused: refuse(); return scan_result::refused;
            }
          }
        }
      }
      return scan_result::more;
    }

    // Answers the refused request here and lingers: evhttp is not called again.
    void refuse() {
      auto& server = *w_.server;
      const auto& why = scanner_.why();
      phase_ = phase::lingering;
      char* addr = nullptr;
      ev_uint16_t port = 0;
      evhttp_connection_get_peer(evcon_, &addr, &port);
      spdlog::debug("http request refused peer={} status={} reason={}", addr ? addr : "", why.status, why.message);
      server.metrics.observe("", is_implemented(scanner_.method()) ? scanner_.method() : "OTHER", why.status, 0.0);
      const auto answer = refusal_answer(why, scanner_.method() == "HEAD");
      evbuffer* in = bufferevent_get_input(bev_);
      evbuffer_drain(in, evbuffer_get_length(in));
      bufferevent_setcb(bev_, &connection_gate::on_linger_read, &connection_gate::on_linger_write,
                        &connection_gate::on_linger_event, this);
      bufferevent_set_timeouts(bev_, nullptr, nullptr); // the deadline bounds it all
      bufferevent_write(bev_, answer.data(), answer.size());
      bufferevent_enable(bev_, EV_READ | EV_WRITE);
      deadline_ = evtimer_new(w_.loop.base(), &connection_gate::on_deadline, this);
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(server.opts.linger_time).count();
      timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
      if (deadline_ == nullptr || evtimer_add(deadline_, &tv) != 0)
        close();
    }

    static void on_linger_read(bufferevent* bev, void*) {
      auto self = of(bev);
      evbuffer* in = bufferevent_get_input(bev);
      const std::size_t n = evbuffer_get_length(in);
      evbuffer_drain(in, n);
      self->dropped_ += n;
      if (self->dropped_ > self->w_.server->opts.linger_bytes)
        self->close();
    }

    // The answer is out: the client hears the end of it (FIN), and may send on until it reads it.
    static void on_linger_write(bufferevent* bev, void*) {
      auto self = of(bev);
      if (!self->answer_sent_) {
        self->answer_sent_ = true;
        ::shutdown(bufferevent_getfd(bev), SHUT_WR);
      }
      if (self->peer_done_)
        self->close();
    }

    static void on_linger_event(bufferevent* bev, short what, void*) {
      auto self = of(bev);
      // A client done sending may still read: the answer goes out first.
      if ((what & BEV_EVENT_EOF) != 0 && (what & BEV_EVENT_ERROR) == 0 && !self->answer_sent_) {
        self->peer_done_ = true;
        return;
      }
      self->close();
    }

    static void on_deadline(evutil_socket_t, short, void* arg) {
      static_cast<connection_gate*>(arg)->shared_from_this()->close();
    }

    // evhttp frees the connection (and tells on_connection_close, which detaches the gate).
    void close() {
      if (std::exchange(closing_, true))
        return;
      evhttp_connection_free(evcon_);
    }

    // The next request's head is read here, from a fresh start.
    void next_head() {
      // Whatever evhttp wrote for the last request (its 100 Continue) left before its answer did.
      evhttp_writing_ = false;
      phase_ = phase::head;
      scanner_ = request_scanner{scan_limits()};
      scanned_ = 0;
    }

    // A whole head that a media route takes (GET or HEAD, no body): answered here, evhttp never
    // sees it. False when it is evhttp's.
    bool media_route_for_head();

  public:
    // The media answer in flight wrote its last bytes (see media_answer): the connection reads its
    // next request, or closes once the answer has left.
    void media_done(bool keep_alive) {
      media_.reset();
      if (closed_)
        return;
      if (!keep_alive) {
        closing_after_media_ = true;
        if (evbuffer_get_length(bufferevent_get_output(bev_)) == 0)
          close();
        return;
      }
      media_answered_ = true; // the next head is read from a fresh start (not now: the handler may still read this one)
      // Answered later, with more come meanwhile: read on once this turn is over (answered in
      // pump(), its loop reads on).
      if (!in_pump_ && evbuffer_get_length(bufferevent_get_input(bev_)) > 0 && kick_ != nullptr)
        event_active(kick_, EV_TIMEOUT, 1);
    }

    // Writes what the output holds now, as far as the socket takes it; the bufferevent writes the
    // rest when the socket can take more. No poll for writability when it all goes at once.
    void flush() {
      // A failed write leaves the bytes there: the bufferevent's own write then hears the error
      // and tells evhttp, which closes the connection.
      evbuffer* out = bufferevent_get_output(bev_);
      (void)evbuffer_write(out, bufferevent_getfd(bev_));
      if (evbuffer_get_length(out) > 0)
        bufferevent_enable(bev_, EV_WRITE);
    }

    [[nodiscard]] worker& owner() const { return w_; }

  private:
    struct media_answer;
    std::shared_ptr<media_answer> media_; // the media request being answered, if any
    bool closing_after_media_ = false;    // its answer said Connection: close
    bool media_answered_ = false;         // one was answered: the scanner starts afresh
    bool in_pump_ = false;
    bool admitted_ = false; // let past max_connections (as worker::tracked::admitted, without the lookup)
    bool evhttp_writing_ = false;         // evhttp wrote while the gate stood in (100 Continue)

    worker& w_;
    bufferevent* bev_;
    evhttp_connection* evcon_ = nullptr;
    // evhttp's own callbacks, as it sets them to read a request.
    bufferevent_data_cb http_read_ = nullptr;
    bufferevent_data_cb http_write_ = nullptr;
    bufferevent_event_cb http_event_ = nullptr;
    evbuffer_cb_entry* input_cb_ = nullptr;
    event* kick_ = nullptr;
    event* deadline_ = nullptr; // the end of the lingering
    evbuffer* held_ = nullptr;  // what came after an answer, until the gate stands in again
    request_scanner scanner_;
    std::size_t scanned_ = 0; // bytes at the start of the input the scanner has seen
    phase phase_ = phase::accepting;
    bool next_request_ = false;
    bool closed_ = false;
    bool closing_ = false;
    bool answer_sent_ = false;
    bool peer_done_ = false;
    std::size_t dropped_ = 0;
  };

  options opts;
  std::vector<std::unique_ptr<worker>> workers;
  bool started = false;
  struct pattern_route {
    std::string method;
    std::vector<std::string> segments; // "{x}" captures
    http_handler handler;
    std::string pattern;
    stream_handler stream; // set for stream routes (handler empty)
    raw_handler raw;       // set for raw routes
  };
  std::vector<pattern_route> routes;
  struct media_pattern {
    std::vector<std::string> segments; // "{x}" captures
    std::string pattern;
    media_handler handler;
  };
  std::vector<media_pattern> media_routes;
  std::vector<std::vector<std::string>> cross_origin; // path patterns, split
  std::vector<middleware> middlewares;
  http_handler fallback;
  http_metrics metrics;
  // Connections open on all loops (the max_connections bound).
  std::atomic<std::size_t> open_connections{0};
  // Where handlers run when options::handler_threads > 0 (made by start(), joined by stop()).
  std::unique_ptr<work_pool> handlers;

  static void on_connection_close(evhttp_connection* con, void* arg) {
    auto* w = static_cast<worker*>(arg);
    auto it = w->connections.find(con);
    if (it == w->connections.end())
      return;
    auto t = std::move(it->second);
    w->connections.erase(it);
    w->server->open_connections.fetch_sub(1, std::memory_order_relaxed);
    w->server->metrics.connection_closed();
    if (t.gate)
      t.gate->detach();
    if (t.stream)
      t.stream->closed();
    if (t.on_close)
      t.on_close();
  }

  // evhttp sent an answer: the connection's gate stands in again for the next request.
  static void on_request_complete(evhttp_request* req, void* arg) {
    auto* w = static_cast<worker*>(arg);
    evhttp_connection* con = evhttp_request_get_connection(req);
    auto it = con ? w->connections.find(con) : w->connections.end();
    if (it != w->connections.end() && it->second.gate && !it->second.gate->closed())
      it->second.gate->answered();
  }

  // A connection's entry, made (and counted) when it is first seen: by its gate, once evhttp has
  // set it up, or by its first request where it has no gate.
  worker::tracked& track(worker& w, evhttp_connection* con) {
    auto [it, fresh] = w.connections.try_emplace(con);
    if (fresh) {
      open_connections.fetch_add(1, std::memory_order_relaxed);
      metrics.connection_opened();
      evhttp_connection_set_closecb(con, &impl::on_connection_close, &w);
    }
    return it->second;
  }

  void track_stream(worker& w, evhttp_connection* con, std::shared_ptr<stream_impl> stream) {
    auto& held = track(w, con).stream;
    if (stream || (held && held->finished()))
      held = std::move(stream);
  }

  static std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> out;
    std::size_t start = 1;
    while (start <= path.size()) {
      const auto end = path.find('/', start);
      out.push_back(path.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
    return out;
  }

  static std::string decode(const std::string& s) {
    char* d = evhttp_uridecode(s.c_str(), 0, nullptr);
    std::string out = d ? d : s;
    free(d);
    return out;
  }

  // A pattern's `{name}` segment, which any non-empty path segment fits.
  static bool is_capture(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

  // Whether a path's segments (strings or views) fit a pattern's: as many, the literal ones equal,
  // the captured ones not empty.
  template <class Parts>
  static bool same_shape(const std::vector<std::string>& pattern, const Parts& parts) {
    if (pattern.size() != parts.size())
      return false;
    for (std::size_t i = 0; i < parts.size(); ++i)
      if (is_capture(pattern[i]) ? parts[i].empty() : pattern[i] != parts[i])
        return false;
    return true;
  }

  // Whether a path's segments fit a pattern's, capturing the `{name}` ones into params.
  static bool fits(const std::vector<std::string>& pattern, const std::vector<std::string>& parts,
                   std::map<std::string, std::string>* params) {
    if (!same_shape(pattern, parts))
      return false;
    if (params)
      for (std::size_t i = 0; i < parts.size(); ++i)
        if (is_capture(pattern[i]))
          (*params)[pattern[i].substr(1, pattern[i].size() - 2)] = decode(parts[i]);
    return true;
  }

  // The handler for a request, filling its path parameters; nullptr with `other_methods` filled
  // when the path exists under other methods only.
  const pattern_route* match(http_request& r, std::vector<std::string>& other_methods) const {
    const auto parts = split(r.path);
    for (const auto& route : routes) {
      std::map<std::string, std::string> params;
      if (!fits(route.segments, parts, &params))
        continue;
      if (route.method != "*" && route.method != r.method) {
        if (std::find(other_methods.begin(), other_methods.end(), route.method) == other_methods.end())
          other_methods.push_back(route.method);
        continue;
      }
      r.params = std::move(params);
      r.route = route.pattern;
      return &route;
    }
    return nullptr;
  }

  [[nodiscard]] bool is_cross_origin(const std::string& path) const {
    const auto parts = split(path);
    return std::any_of(cross_origin.begin(), cross_origin.end(),
                       [&parts](const auto& pattern) { return fits(pattern, parts, nullptr); });
  }

  // The answer on a path routed under other methods only: a CORS preflight's where the path is
  // cross-origin, else 405 with the methods there are.
  [[nodiscard]] http_response other_method(const http_request& r, std::vector<std::string> methods) const {
    const bool cors = is_cross_origin(r.path);
    if (cors)
      methods.push_back("OPTIONS");
    std::string allow;
    for (const auto& m : methods)
      allow += (allow.empty() ? "" : ", ") + m;
    if (cors && r.method == "OPTIONS") {
      http_response resp;
      resp.status = 204;
      resp.content_type.clear();
      resp.headers = {{"Access-Control-Allow-Origin", "*"},
                      {"Access-Control-Allow-Methods", allow},
                      {"Access-Control-Max-Age", "86400"}};
      // Whatever request headers the page wants to send (Range, say) are fine: nothing here reads them.
      if (const auto asked = r.header("access-control-request-headers"); !asked.empty())
        resp.headers.emplace_back("Access-Control-Allow-Headers", asked);
      return resp;
    }
    auto resp = error_response(405, "METHOD_NOT_ALLOWED", r.method + " is not allowed on " + r.path);
    resp.headers.emplace_back("Allow", allow);
    if (cors)
      resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
    return resp;
  }

  // The middlewares from index i on, then the handler.
  void run(std::size_t i, const http_request& r, responder respond, const http_handler& handler) const {
    if (i == middlewares.size())
      return handler(r, std::move(respond));
    middlewares[i](r, std::move(respond), [this, i, &handler](const http_request& req, responder next_respond) {
      run(i + 1, req, std::move(next_respond), handler);
    });
  }

  static void on_request(evhttp_request* req, void* arg) {
    auto* w = static_cast<worker*>(arg);
    w->server->handle(*w, req);
  }

  void handle(worker& w, evhttp_request* req) {
    auto& loop = w.loop;
    evhttp_request_set_on_complete_cb(req, &impl::on_request_complete, &w);
    http_request r;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: r.method = "GET"; break;
    case EVHTTP_REQ_POST: r.method = "POST"; break;
    case EVHTTP_REQ_PUT: r.method = "PUT"; break;
    case EVHTTP_REQ_PATCH: r.method = "PATCH"; break;
    case EVHTTP_REQ_DELETE: r.method = "DELETE"; break;
    case EVHTTP_REQ_HEAD: r.method = "HEAD"; break;
    case EVHTTP_REQ_OPTIONS: r.method = "OPTIONS"; break;
    default: r.method = "OTHER"; break;
    }
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
    const char* path = uri ? evhttp_uri_get_path(uri) : nullptr;
    r.path = path && *path ? path : "/";
    if (const char* q = uri ? evhttp_uri_get_query(uri) : nullptr) {
      evkeyvalq params{};
      if (evhttp_parse_query_str(q, &params) == 0) {
        for (evkeyval* kv = params.tqh_first; kv; kv = kv->next.tqe_next)
          r.query.emplace(kv->key, kv->value);
      }
      evhttp_clear_headers(&params);
    }
    for (evkeyval* h = evhttp_request_get_input_headers(req)->tqh_first; h; h = h->next.tqe_next) {
      std::string name = h->key;
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = h->value;
    }
    evbuffer* in = evhttp_request_get_input_buffer(req);
    r.body.resize(evbuffer_get_length(in));
    if (!r.body.empty())
      evbuffer_copyout(in, r.body.data(), r.body.size());
    evhttp_connection* connection = evhttp_request_get_connection(req);
    if (evhttp_connection* con = connection) {
      char* addr = nullptr;
      ev_uint16_t port = 0;
      evhttp_connection_get_peer(con, &addr, &port);
      r.peer = addr ? addr : "";
      r.peer_is_loopback = r.peer.rfind("127.", 0) == 0 || r.peer == "::1" || r.peer == "::ffff:127.0.0.1";
    }
    if (auto asked = r.header("x-request-id"); domain::valid_request_id(asked))
      r.request_id = std::move(asked);
    else
      r.request_id = new_request_id();

    std::vector<std::string> other_methods;
    const pattern_route* route = match(r, other_methods);
    if (route && route->stream) {
      auto stream = std::make_shared<stream_impl>(loop, metrics, req, r, opts.timeout_seconds);
      if (connection) {
        track(w, connection).admitted = true; // streams are not held to max_connections
        track_stream(w, connection, stream);
      }
      dispatch([route, r = std::move(r), stream = std::move(stream)] {
        try {
          route->stream(r, stream);
        } catch (const std::exception& e) {
          spdlog::error("http stream handler failed method={} path={} error={}", r.method, r.path, e.what());
          stream->respond(error_response(500, "INTERNAL_ERROR", "internal error"));
        }
      });
      return;
    }
    // Counted since it was accepted, this connection is among the open ones.
    if (connection && !track(w, connection).admitted &&
        open_connections.load(std::memory_order_relaxed) > opts.max_connections) {
      // Past the bound: tell this client to come back later and let it go (evhttp closes the
      // connection after a reply that says Connection: close).
      spdlog::warn("http connection refused peer={} reason=max_connections limit={}", r.peer, opts.max_connections);
      auto resp = error_response(503, "SERVICE_UNAVAILABLE", "too many open connections");
      resp.headers.emplace_back("Retry-After", "1");
      resp.headers.emplace_back("Connection", "close");
      if (is_cross_origin(r.path))
        resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
      metrics.observe("", r.method, 503, 0.0);
      send_response(req, resp);
      return;
    }
    if (connection) {
      track(w, connection).admitted = true;
      track_stream(w, connection, nullptr);
    }
    if (route && route->raw) {
      close_watch on_close = [&w, connection](std::function<void()> fn) {
        if (auto it = w.connections.find(connection); it != w.connections.end())
          it->second.on_close = std::move(fn);
      };
      try {
        route->raw(r, req, loop, std::move(on_close));
        metrics.observe(r.route, r.method, 200, 0.0); // taken over: its own status is the route's
      } catch (const std::exception& e) {
        spdlog::error("http raw handler failed method={} path={} error={}", r.method, r.path, e.what());
        metrics.observe(r.route, r.method, 500, 0.0);
        auto resp = error_response(500, "INTERNAL_ERROR", "internal error");
        if (is_cross_origin(r.path))
          resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
        send_response(req, resp);
      }
      return;
    }

    // The responder may run on any thread; the reply goes out on the loop (at once when already
    // there). If the client went away meanwhile, evhttp keeps the request for us and frees it on reply.
    responder respond = [this, &loop, req, t0 = steady::now(), route_label = r.route, method = r.method,
                         request_id = r.request_id](http_response resp) {
      resp.headers.emplace_back("X-Request-Id", request_id);
      auto send = [this, req, t0](const std::string& route_label, const std::string& method, http_response& resp) {
        metrics.observe(route_label, method, resp.status, seconds_since(t0));
        send_response(req, resp);
      };
      if (loop.in_loop_thread())
        return send(route_label, method, resp);
      loop.post([send, route_label, method, resp = std::move(resp)]() mutable { send(route_label, method, resp); });
    };

    dispatch([this, route, r = std::move(r), respond = std::move(respond),
              other_methods = std::move(other_methods)]() mutable {
      actors::log_context::scope logged{r.request_id};
      try {
        if (route)
          run(0, r, respond, route->handler);
        else if (!other_methods.empty())
          respond(other_method(r, std::move(other_methods)));
        else if (fallback)
          fallback(r, respond);
        else
          respond(error_response(404, "NOT_FOUND", "no route for " + r.method + " " + r.path));
      } catch (const std::exception& e) {
        spdlog::error("http handler failed method={} path={} error={}", r.method, r.path, e.what());
        respond(error_response(500, "INTERNAL_ERROR", "internal error"));
      }
    });
  }

  // Runs a handler where options::handler_threads says: on the pool, or here on the loop.
  void dispatch(std::function<void()> task) {
    if (handlers)
      handlers->post(std::move(task));
    else
      task();
  }
};

// One media request's answer, written straight to its connection's output (see media_route).
struct http_server::impl::connection_gate::media_answer final : net::media_reply {
  media_answer(std::shared_ptr<connection_gate> gate, const media_pattern& route, bool head_only, int minor,
               bool keep_alive)
      : gate_{std::move(gate)}, route_{route}, head_only_{head_only}, minor_{minor}, keep_alive_{keep_alive} {}

  void send(int status, std::string_view content_type, std::string_view cache_control,
            std::vector<net::body_piece> body) override {
    if (std::exchange(state_, state::done) != state::fresh)
      return;
    auto* g = open_gate();
    if (g == nullptr)
      return;
    std::string head = head_of(status, content_type, cache_control);
    head += "Content-Length: ";
    head += std::to_string(net::size_of(body));
    head += "\r\n\r\n";
    evbuffer* out = bufferevent_get_output(g->bev());
    evbuffer_add(out, head.data(), head.size());
    if (!head_only_)
      add_body(out, body);
    finish(*g, status);
  }

  void start(int status, std::string_view content_type, std::string_view cache_control) override {
    if (state_ != state::fresh)
      return;
    state_ = state::chunked;
    auto* g = open_gate();
    if (g == nullptr)
      return;
    // HTTP/1.0 has no chunks: the body ends with the connection.
    if (minor_ == 0)
      keep_alive_ = false;
    std::string head = head_of(status, content_type, cache_control);
    head += minor_ == 0 ? "\r\n" : "Transfer-Encoding: chunked\r\n\r\n";
    evbuffer_add(bufferevent_get_output(g->bev()), head.data(), head.size());
    g->flush();
    status_ = status;
  }

  void chunk(std::vector<net::body_piece> body) override {
    const auto length = net::size_of(body);
    auto* g = state_ == state::chunked ? open_gate() : nullptr;
    if (g == nullptr || length == 0 || head_only_)
      return;
    evbuffer* out = bufferevent_get_output(g->bev());
    if (minor_ != 0)
      evbuffer_add_printf(out, "%zx\r\n", length);
    add_body(out, body);
    if (minor_ != 0)
      evbuffer_add(out, "\r\n", 2);
    g->flush();
  }

  void end() override {
    if (std::exchange(state_, state::done) != state::chunked)
      return;
    auto* g = open_gate();
    if (g == nullptr)
      return;
    if (minor_ != 0 && !head_only_)
      evbuffer_add(bufferevent_get_output(g->bev()), "0\r\n\r\n", 5);
    finish(*g, status_);
  }

  [[nodiscard]] bool gone() const override { return gate_->closed(); }

private:
  enum class state { fresh, chunked, done };

  [[nodiscard]] connection_gate* open_gate() const { return gate_->closed() ? nullptr : gate_.get(); }

  std::string head_of(int status, std::string_view content_type, std::string_view cache_control) const {
    std::string head;
    head.reserve(256);
    head += "HTTP/1.1 ";
    head += std::to_string(status);
    head += ' ';
    head += net::reason_phrase(status);
    head += "\r\nContent-Type: ";
    head += content_type;
    head += "\r\nCache-Control: ";
    head += cache_control;
    head += "\r\nAccess-Control-Allow-Origin: *\r\n";
    if (const auto date = http_date(); !date.empty()) {
      head += "Date: ";
      head += date;
      head += "\r\n";
    }
    if (!keep_alive_)
      head += "Connection: close\r\n";
    else if (minor_ == 0)
      head += "Connection: keep-alive\r\n";
    return head;
  }

  static void add_body(evbuffer* out, const std::vector<net::body_piece>& body) {
    for (const auto& p : body) {
      if (p.size == 0)
        continue;
      auto* keep = new std::shared_ptr<const void>{p.keep};
      if (evbuffer_add_reference(out, p.data, p.size,
                                 [](const void*, std::size_t, void* arg) {
                                   delete static_cast<std::shared_ptr<const void>*>(arg);
                                 },
                                 keep) != 0) {
        delete keep;
        evbuffer_add(out, p.data, p.size);
      }
    }
  }

  // The answer is whole: it leaves now, counted, and the connection goes on.
  void finish(connection_gate& g, int status) {
    g.owner().server->metrics.observe(route_.pattern, head_only_ ? "HEAD" : "GET", status, seconds_since(t0_));
    g.flush();
    g.media_done(keep_alive_);
  }

  std::shared_ptr<connection_gate> gate_;
  const media_pattern& route_;
  bool head_only_;
  int minor_;
  bool keep_alive_;
  state state_ = state::fresh;
  int status_ = 200;
  steady::time_point t0_ = steady::now();
};

bool http_server::impl::connection_gate::media_route_for_head() {
  auto& server = *w_.server;
  if (server.media_routes.empty() || scanner_.body_or_expectation())
    return false;
  const auto& method = scanner_.method();
  const bool head_only = method == "HEAD";
  if (method != "GET" && !head_only)
    return false;
  std::string_view target{scanner_.target()};
  // The absolute form (http://host/path), which a client may send any server: its path.
  if (const auto scheme = target.find("://"); !target.empty() && target.front() != '/' && scheme != std::string_view::npos)
    target.remove_prefix(std::min(target.size(), target.find('/', scheme + 3)));
  if (target.empty() || target.front() != '/' || target.find('#') != std::string_view::npos)
    return false;
  const auto q = target.find('?');
  const auto path = target.substr(0, q);
  const auto query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  constexpr std::size_t most = 8;
  std::array<std::string_view, most> parts{};
  std::size_t n = 0;
  for (std::string_view rest = path.substr(1);; ++n) {
    if (n == most)
      return false;
    const auto slash = rest.find('/');
    parts[n] = rest.substr(0, slash);
    if (slash == std::string_view::npos) {
      ++n;
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  const std::span<const std::string_view> path_parts{parts.data(), n};
  const auto it = std::find_if(server.media_routes.begin(), server.media_routes.end(),
                               [&path_parts](const media_pattern& r) { return impl::same_shape(r.segments, path_parts); });
  if (it == server.media_routes.end())
    return false;
  const media_pattern* route = &*it;
  std::array<std::string_view, most> params{};
  std::array<std::string, most> decoded;
  std::size_t captured = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!impl::is_capture(route->segments[i]))
      continue;
    if (parts[i].find('%') == std::string_view::npos) {
      params[captured++] = parts[i];
      continue;
    }
    decoded[captured] = impl::decode(std::string{parts[i]});
    params[captured] = decoded[captured];
    ++captured;
  }

  char* addr = nullptr;
  ev_uint16_t port = 0;
  evhttp_connection_get_peer(evcon_, &addr, &port);
  const std::string_view peer = addr ? addr : "";
  // Counted since it was accepted, this connection is among the open ones (as in handle()).
  bool over = false;
  if (!admitted_) {
    auto& tracked = server.track(w_, evcon_);
    over = !tracked.admitted && server.open_connections.load(std::memory_order_relaxed) > server.opts.max_connections;
    tracked.admitted = admitted_ = !over;
  }
  evbuffer_drain(bufferevent_get_input(bev_), scanned_); // the head, read
  scanned_ = 0;
  auto answer = std::make_shared<media_answer>(shared_from_this(), *route, head_only, scanner_.minor_version(),
                                               scanner_.keep_alive() && !over);
  media_ = answer;
  if (over) {
    spdlog::warn("http connection refused peer={} reason=max_connections limit={}", peer, server.opts.max_connections);
    net::send_text(*answer, 503, "too many open connections\n");
    return true;
  }
  const media_request req{method, path, query, scanner_.host(), scanner_.user_agent(), peer,
                          std::span<const std::string_view>{params.data(), captured}};
  try {
    route->handler(req, answer, w_.loop);
  } catch (const std::exception& e) {
    spdlog::error("http media handler failed method={} path={} error={}", method, path, e.what());
    net::send_text(*answer, 500, "internal error\n");
  }
  return true;
}

http_server::http_server(options opts) : impl_(std::make_unique<impl>()) { impl_->opts = std::move(opts); }

http_server::~http_server() { stop(); }

void http_server::route(std::string method, std::string path, http_handler h) {
  auto segments = impl::split(path);
  impl_->routes.push_back({std::move(method), std::move(segments), std::move(h), std::move(path), nullptr, nullptr});
}

void http_server::stream_route(std::string method, std::string path, stream_handler h) {
  auto segments = impl::split(path);
  impl_->routes.push_back({std::move(method), std::move(segments), nullptr, std::move(path), std::move(h), nullptr});
}

void http_server::raw_route(std::string method, std::string path, raw_handler h) {
  auto segments = impl::split(path);
  impl_->routes.push_back({std::move(method), std::move(segments), nullptr, std::move(path), nullptr, std::move(h)});
}

void http_server::media_route(std::string path, media_handler h) {
  auto segments = impl::split(path);
  // What reaches evhttp on the path anyway: a GET with a body (refused), or a request on a
  // connection the server could not gate (the gate is made for every connection; only a failed
  // allocation leaves one without), told to come back.
  impl_->routes.push_back({"GET", segments, nullptr, path, nullptr,
                           [](const http_request& req, evhttp_request* raw, net::event_loop&, close_watch) {
                             const bool body = !req.header("content-length").empty() ||
                                               !req.header("transfer-encoding").empty() || !req.header("expect").empty();
                             auto resp = body ? error_response(400, "BAD_REQUEST", "a media request has no body")
                                              : error_response(503, "SERVICE_UNAVAILABLE", "try again");
                             if (!body)
                               resp.headers.emplace_back("Retry-After", "1");
                             resp.headers.emplace_back("Access-Control-Allow-Origin", "*");
                             send_response(raw, resp);
                           }});
  impl_->media_routes.push_back({std::move(segments), std::move(path), std::move(h)});
}

const http_metrics& http_server::metrics() const { return impl_->metrics; }

void http_server::cross_origin(std::string path) { impl_->cross_origin.push_back(impl::split(path)); }

void http_server::fallback(http_handler h) { impl_->fallback = std::move(h); }

void http_server::use(middleware m) { impl_->middlewares.push_back(std::move(m)); }

std::vector<std::pair<std::string, std::string>> http_server::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : impl_->routes)
    out.emplace_back(r.method, r.pattern);
  return out;
}

namespace {

// A listening socket with SO_REUSEPORT, so each loop can have its own on the same port.
evconnlistener* listen_reuseport(event_base* base, const listen_address& at, std::uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&ss); inet_pton(AF_INET, at.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss); inet_pton(AF_INET6, at.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    errno = EINVAL;
    return nullptr;
  }
  constexpr unsigned flags =
      LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
  return evconnlistener_new_bind(base, nullptr, nullptr, flags, -1, reinterpret_cast<sockaddr*>(&ss),
                                 static_cast<int>(len));
}

} // namespace

domain::result<std::uint16_t> http_server::start() {
  auto& i = *impl_;
  if (i.started)
    return make_error(error_code::internal, "http server already started");
  const auto cannot_listen = [&i](std::uint16_t port) {
    return make_error(error_code::internal, "cannot listen on " + i.opts.listen.host + ":" + std::to_string(port) +
                                                ": " + std::strerror(errno));
  };
  const std::size_t n = std::max<std::size_t>(1, i.opts.threads);
  std::uint16_t port = i.opts.listen.port;
  for (std::size_t k = 0; k < n; ++k) {
    auto w = std::make_unique<impl::worker>();
    w->server = &i;
    w->http = evhttp_new(w->loop.base());
    if (!w->http)
      return make_error(error_code::internal, "evhttp_new failed");
    i.workers.push_back(std::move(w));
    evhttp* http = i.workers.back()->http;
    evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(i.opts.max_body_bytes));
    evhttp_set_max_headers_size(http, static_cast<ev_ssize_t>(i.opts.max_header_bytes));
    evhttp_set_timeout(http, i.opts.timeout_seconds);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(http, &impl::on_request, i.workers.back().get());
    evhttp_set_bevcb(http, &impl::connection_gate::make_bufferevent, i.workers.back().get());
    evhttp_bound_socket* bound = nullptr;
    if (n == 1) {
      bound = evhttp_bind_socket_with_handle(http, i.opts.listen.host.c_str(), port);
    } else if (evconnlistener* l = listen_reuseport(i.workers.back()->loop.base(), i.opts.listen, port)) {
      bound = evhttp_bind_listener(http, l);
      if (!bound)
        evconnlistener_free(l);
    }
    if (!bound)
      return cannot_listen(port);
    if (k == 0) { // port 0: the others bind the port the first one got
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      if (getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        port = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
  }
  if (i.opts.handler_threads > 0)
    i.handlers = std::make_unique<work_pool>(i.opts.handler_threads, "onair-http");
  for (auto& w : i.workers)
    w->loop.start();
  i.started = true;
  return port;
}

void http_server::stop() {
  if (!impl_)
    return;
  for (auto& w : impl_->workers)
    w->loop.stop();
  for (auto& w : impl_->workers) {
    if (w->http)
      evhttp_free(w->http); // closes every connection, telling their streams
    w->http = nullptr;
    for (auto& [con, t] : std::exchange(w->connections, {})) {
      if (t.gate)
        t.gate->release();
      if (t.stream)
        t.stream->closed();
    }
    // Accepted as the loop stopped, before their first kick: evhttp freed them, but for the
    // reference each gate holds.
    for (auto& [raw, g] : std::exchange(w->accepting, {})) {
      g->detach();
      bufferevent_decref(g->bev());
    }
  }
  // Handlers still running or queued finish; their answers go nowhere now (posts to stopped loops
  // are dropped), and the requests they name were freed with the evhttps, unread.
  if (impl_->handlers)
    impl_->handlers->stop();
  // The loops stay until the server goes: streams still held elsewhere refer to theirs.
}

} // namespace onair::api

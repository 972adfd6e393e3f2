// fanout::socket_writer: shared message bytes go straight to the socket while it takes them, the
// rest is queued by reference (the messages kept alive until written), the order on the wire is
// the order of the calls, and a queue can be made independent of the messages.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <vector>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "media/fanout/socket_writer.hpp"
#include "media/flv/output.hpp"

using namespace onair::media;

namespace {

const std::vector<std::uint8_t>& flv_bytes(const fanout::message& m) { return flv::tag_of(m); }

fanout::message_ptr message_of(std::size_t size, std::uint8_t fill) {
  return std::make_shared<const fanout::message>(make_frame(frame_kind::video, 0, std::vector<std::uint8_t>(size, fill)), 0, 0);
}

// A connected socket pair: the writer's end on a bufferevent, the peer's end read by the test.
struct pair_fixture {
  event_base* base = event_base_new();
  int peer = -1;
  bufferevent* bev = nullptr;
  fanout::socket_writer writer;

  explicit pair_fixture(int send_buffer = 0) {
    int fds[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    if (send_buffer > 0) {
      BOOST_REQUIRE(::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer) == 0);
      BOOST_REQUIRE(::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &send_buffer, sizeof send_buffer) == 0);
    }
    evutil_make_socket_nonblocking(fds[0]);
    evutil_make_socket_nonblocking(fds[1]);
    peer = fds[1];
    bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
    bufferevent_enable(bev, EV_WRITE);
    writer.attach(bev);
  }
  ~pair_fixture() {
    writer.detach();
    if (bev)
      bufferevent_free(bev);
    if (peer >= 0)
      ::close(peer);
    event_base_free(base);
  }

  // Reads what the peer has, running the writer's loop, until `want` bytes came or time is up.
  std::vector<std::uint8_t> receive(std::size_t want) {
    std::vector<std::uint8_t> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    std::vector<std::uint8_t> buf(64 * 1024);
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
      event_base_loop(base, EVLOOP_NONBLOCK);
      const ssize_t n = ::read(peer, buf.data(), buf.size());
      if (n > 0)
        got.insert(got.end(), buf.begin(), buf.begin() + n);
      else if (n < 0 && errno != EAGAIN && errno != EINTR)
        break;
    }
    return got;
  }
};

std::vector<std::uint8_t> concat(const std::vector<fanout::message_ptr>& ms) {
  std::vector<std::uint8_t> all;
  for (const auto& m : ms)
    all.insert(all.end(), flv_bytes(*m).begin(), flv_bytes(*m).end());
  return all;
}

} // namespace

BOOST_AUTO_TEST_SUITE(socket_writer)

BOOST_AUTO_TEST_CASE(given_room_in_the_socket_when_sending_then_all_goes_direct_and_nothing_is_held) {
  pair_fixture p;
  const std::vector<fanout::message_ptr> originals{message_of(100, 1), message_of(2000, 2), message_of(50, 3)};
  auto batch = originals;

  const auto sent = p.writer.send(batch, &flv_bytes);
  batch.clear(); // as callers do

  const auto expected = concat(originals);
  BOOST_TEST(sent.error == 0);
  BOOST_TEST(sent.bytes == expected.size());
  BOOST_TEST(p.writer.direct_bytes() == expected.size());
  BOOST_TEST(p.writer.queued() == 0U);
  for (const auto& m : originals)
    BOOST_TEST(m.use_count() == 1); // the writer keeps no reference to what the kernel took
  BOOST_TEST(p.receive(expected.size()) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(given_a_full_socket_when_sending_then_the_rest_is_queued_by_reference_until_written) {
  pair_fixture p{16 * 1024};
  std::vector<fanout::message_ptr> originals;
  for (std::uint8_t i = 0; i < 40; ++i)
    originals.push_back(message_of(8000, i));
  auto batch = originals;

  const auto sent = p.writer.send(batch, &flv_bytes);
  batch.clear();

  const auto expected = concat(originals);
  BOOST_TEST(sent.error == 0);
  BOOST_TEST(sent.bytes == expected.size()); // written and queued together
  BOOST_TEST(p.writer.direct_bytes() > 0U);
  BOOST_TEST(p.writer.direct_bytes() < expected.size());
  BOOST_TEST(p.writer.queued() == expected.size() - p.writer.direct_bytes());
  BOOST_TEST(originals.back().use_count() == 2); // held by the queue
  // Later messages and the connection's own bytes wait behind the queue, in call order.
  const std::vector<std::uint8_t> control{'c', 't', 'l'};
  p.writer.copy(control);
  std::vector<fanout::message_ptr> later{message_of(300, 0xEE)};
  const auto later_bytes = flv_bytes(*later.front());
  BOOST_TEST(p.writer.send(later, &flv_bytes).error == 0);

  auto want = expected;
  want.insert(want.end(), control.begin(), control.end());
  want.insert(want.end(), later_bytes.begin(), later_bytes.end());
  BOOST_TEST(p.receive(want.size()) == want, boost::test_tools::per_element());
  BOOST_TEST(p.writer.queued() == 0U);
  for (const auto& m : originals)
    BOOST_TEST(m.use_count() == 1); // released as their bytes left
}

BOOST_AUTO_TEST_CASE(given_a_queue_made_self_contained_when_the_messages_go_then_the_bytes_still_arrive) {
  pair_fixture p{16 * 1024};
  std::vector<fanout::message_ptr> batch;
  for (std::uint8_t i = 0; i < 20; ++i)
    batch.push_back(message_of(8000, static_cast<std::uint8_t>(0x40 + i)));
  const auto expected = concat(batch);
  std::vector<std::weak_ptr<const fanout::message>> watch(batch.begin(), batch.end());
  BOOST_TEST(p.writer.send(batch, &flv_bytes).error == 0);
  BOOST_TEST(p.writer.queued() > 0U);

  p.writer.make_self_contained();
  batch.clear();

  for (const auto& w : watch)
    BOOST_TEST(w.expired()); // nothing points into them any more
  BOOST_TEST(p.receive(expected.size()) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(given_a_closed_peer_when_sending_then_the_socket_error_is_returned) {
  pair_fixture p;
  ::close(p.peer);
  p.peer = -1;
  std::vector<fanout::message_ptr> batch{message_of(1000, 7)};

  const int err = p.writer.send(batch, &flv_bytes).error;

  BOOST_TEST((err == EPIPE || err == ECONNRESET));
}

BOOST_AUTO_TEST_CASE(given_a_queue_behind_earlier_bytes_when_the_socket_is_writable_then_one_write_takes_all_it_can) {
  // As a new HTTP-FLV viewer's GOP cache waits behind the reply's headers: libevent writes a
  // bufferevent's output 16 KiB per write event unless told otherwise, one loop turn each.
  pair_fixture p;
  const auto headers = flv_bytes(*message_of(40, 0xAA));
  p.writer.copy(headers);
  std::vector<fanout::message_ptr> gop;
  for (std::uint8_t i = 0; i < 12; ++i)
    gop.push_back(message_of(8000, i));
  const auto expected = concat(gop);
  BOOST_TEST(p.writer.send(gop, &flv_bytes).error == 0);
  BOOST_TEST(p.writer.queued() == headers.size() + expected.size());

  event_base_loop(p.base, EVLOOP_ONCE | EVLOOP_NONBLOCK); // one write event

  BOOST_TEST(p.writer.queued() == 0U);
  auto want = headers;
  want.insert(want.end(), expected.begin(), expected.end());
  BOOST_TEST(p.receive(want.size()) == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

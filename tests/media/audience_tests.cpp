// Who plays a CMAF stream over HTTP: a player is an address and a User-Agent heard from within the
// window, counted under the protocol of the manifest it last asked for; bounded.
#include <boost/test/unit_test.hpp>

#include "media/cmaf/audience.hpp"

using namespace onair::media::cmaf;
using namespace std::chrono_literals;

namespace {

const audience::clock::time_point t0{};
const auto alice = audience::fingerprint("203.0.113.7", "Mozilla/5.0 (X11) Chrome/120");
const auto bob = audience::fingerprint("203.0.113.8", "Mozilla/5.0 (X11) Chrome/120");

audience with_window(std::chrono::milliseconds window, std::size_t max_players = 100) {
  return audience{audience::options{.window = window, .max_players = max_players}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(cmaf_audience)

BOOST_AUTO_TEST_CASE(given_two_players_of_each_manifest_when_counted_then_each_is_under_its_protocol) {
  auto a = with_window(10s);
  a.heard(alice, player_protocol::hls, t0);
  a.heard(bob, player_protocol::dash, t0 + 1s);
  const auto n = a.players(t0 + 2s);
  BOOST_TEST(n.hls == 1u);
  BOOST_TEST(n.dash == 1u);
}

BOOST_AUTO_TEST_CASE(given_a_player_when_it_asks_again_for_playlists_and_parts_then_it_counts_once) {
  auto a = with_window(10s);
  for (int i = 0; i < 20; ++i) {
    a.heard(alice, player_protocol::hls, t0 + i * 300ms); // v0.m3u8?_HLS_msn=…
    a.heard(alice, std::nullopt, t0 + i * 300ms + 10ms);  // v0/12.3.m4s
  }
  BOOST_TEST(a.players(t0 + 6s).hls == 1u);
}

BOOST_AUTO_TEST_CASE(given_a_player_that_only_fetches_objects_when_counted_then_it_keeps_its_manifests_protocol) {
  auto a = with_window(10s);
  a.heard(alice, player_protocol::dash, t0);
  a.heard(alice, std::nullopt, t0 + 8s);
  // Heard 8 s ago by its manifest, 3 s ago by a segment: still a DASH player.
  BOOST_TEST(a.players(t0 + 11s).dash == 1u);
  BOOST_TEST(a.players(t0 + 11s).hls == 0u);
}

BOOST_AUTO_TEST_CASE(given_a_player_heard_only_through_objects_when_counted_then_it_is_not_counted) {
  auto a = with_window(10s);
  a.heard(alice, std::nullopt, t0);
  const auto n = a.players(t0 + 1s);
  BOOST_TEST(n.hls + n.dash == 0u);
}

BOOST_AUTO_TEST_CASE(given_a_player_that_switches_manifests_when_counted_then_it_counts_under_the_last) {
  auto a = with_window(10s);
  a.heard(alice, player_protocol::hls, t0);
  a.heard(alice, player_protocol::dash, t0 + 1s);
  BOOST_TEST(a.players(t0 + 2s).hls == 0u);
  BOOST_TEST(a.players(t0 + 2s).dash == 1u);
}

BOOST_AUTO_TEST_CASE(given_a_player_silent_for_longer_than_the_window_when_counted_then_it_has_left) {
  auto a = with_window(10s);
  a.heard(alice, player_protocol::hls, t0);
  a.heard(bob, player_protocol::hls, t0 + 5s);
  BOOST_TEST(a.players(t0 + 10s).hls == 2u);
  BOOST_TEST(a.players(t0 + 12s).hls == 1u); // alice gone, bob not yet
  BOOST_TEST(a.players(t0 + 16s).hls == 0u);
}

BOOST_AUTO_TEST_CASE(given_the_bound_reached_when_a_newcomer_asks_then_it_waits_until_someone_leaves) {
  auto a = with_window(10s, 2);
  a.heard(alice, player_protocol::hls, t0);
  a.heard(bob, player_protocol::hls, t0);
  const auto carol = audience::fingerprint("203.0.113.9", "curl/8");
  a.heard(carol, player_protocol::hls, t0 + 1s);
  BOOST_TEST(a.players(t0 + 1s).hls == 2u); // carol not counted: the map stays bounded
  // Once alice and bob have been gone a window, carol takes a place.
  a.heard(carol, player_protocol::hls, t0 + 21s);
  BOOST_TEST(a.players(t0 + 21s).hls == 1u);
}

BOOST_AUTO_TEST_CASE(given_the_same_address_when_the_user_agents_differ_then_the_fingerprints_differ) {
  BOOST_TEST(audience::fingerprint("10.0.0.1", "A") != audience::fingerprint("10.0.0.1", "B"));
  BOOST_TEST(audience::fingerprint("10.0.0.1", "A") != audience::fingerprint("10.0.0.2", "A"));
  BOOST_TEST(audience::fingerprint("10.0.0.1", "A") == audience::fingerprint("10.0.0.1", "A"));
  BOOST_TEST(audience::fingerprint("a", "bc") != audience::fingerprint("ab", "c"));
}

BOOST_AUTO_TEST_SUITE_END()

// The cache of checked Basic credentials (api/auth_cache.hpp): a hit needs the same stored app
// bytes and the same secret; anything else is checked afresh.
#include <boost/test/unit_test.hpp>

#include "api/auth_cache.hpp"

namespace api = onair::api;

BOOST_AUTO_TEST_SUITE(auth_cache)

namespace {
onair::domain::app app_named(std::string name) {
  onair::domain::app a;
  a.id = 7;
  a.name = std::move(name);
  a.exists = true;
  return a;
}
} // namespace

BOOST_AUTO_TEST_CASE(a_hit_needs_the_same_view_bytes_and_the_same_secret) {
  api::auth_cache cache;
  const auto d = api::auth_cache::digest("as_secret");
  BOOST_TEST(d.size() == 32u);
  BOOST_TEST(!cache.find("ak_1", "view-v1", d).has_value(), "empty cache");
  cache.put("ak_1", "view-v1", d, app_named("one"));
  auto hit = cache.find("ak_1", "view-v1", d);
  BOOST_REQUIRE(hit.has_value());
  BOOST_TEST(hit->name == "one");
  BOOST_TEST(!cache.find("ak_1", "view-v1", api::auth_cache::digest("as_other")).has_value(), "another secret");
  BOOST_TEST(!cache.find("ak_1", "view-v2", d).has_value(), "the app changed (e.g. its secret was rotated)");
  BOOST_TEST(!cache.find("ak_2", "view-v1", d).has_value(), "another key");
  BOOST_TEST(!cache.find("ak_1", "view-v1", "").has_value(), "no digest never matches");
}

BOOST_AUTO_TEST_CASE(stays_bounded) {
  api::auth_cache cache{3};
  for (int i = 0; i < 10; ++i)
    cache.put("ak_" + std::to_string(i), "view", api::auth_cache::digest("s"), app_named("x"));
  BOOST_TEST(cache.size() <= 3u);
}

BOOST_AUTO_TEST_SUITE_END()

// App: creation, secret rotation, settings.
#include "domain/app.hpp"

#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

using ap = app_aggregate;

create_app create() {
  return create_app{.name = "demo", .api_key = "key", .secret_hash = "h1", .secret_salt = "s1", .signing_key = "sk"};
}
app_created created() {
  return app_created{.id = 101,
                     .name = "demo",
                     .api_key = "key",
                     .secret_hash = "h1",
                     .secret_salt = "s1",
                     .signing_key = "sk",
                     .at = at(0)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(app_commands)

BOOST_AUTO_TEST_CASE(create_app_stores_credentials_with_default_mode_rtmp_and_profile_1) {
  const auto s = given<ap>().when(create(), ctx(0, 1)).then({created()});
  BOOST_TEST(s.exists);
  BOOST_TEST(s.id == 101);
  BOOST_TEST(s.secret_hash == "h1");
  BOOST_TEST(s.default_mode == output_mode::rtmp);
  BOOST_TEST(s.default_profile_id == 1);
  BOOST_TEST(s.created_at == at(0));
}

BOOST_AUTO_TEST_CASE(create_app_when_it_exists_is_a_no_op) {
  given<ap>({created()}).when(create(), ctx(5, 2)).then_nothing();
}

BOOST_AUTO_TEST_CASE(create_app_without_name_is_refused) {
  auto c = create();
  c.name.clear();
  given<ap>().when(c).then_error(error_code::invalid_parameter, "name");
}

BOOST_AUTO_TEST_CASE(rotate_secret_replaces_hash_and_salt) {
  const auto s = given<ap>({created()})
                     .when(rotate_secret{.secret_hash = "h2", .secret_salt = "s2"}, ctx(5))
                     .then({app_secret_rotated{.secret_hash = "h2", .secret_salt = "s2", .at = at(5)}});
  BOOST_TEST(s.secret_hash == "h2");
  BOOST_TEST(s.secret_salt == "s2");
  BOOST_TEST(s.last_modified_at == at(5));
}

BOOST_AUTO_TEST_CASE(rotate_secret_to_same_secret_is_a_no_op) {
  given<ap>({created()}).when(rotate_secret{.secret_hash = "h1", .secret_salt = "s1"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(commands_on_a_missing_app_are_refused) {
  given<ap>().when(rotate_secret{.secret_hash = "h2", .secret_salt = "s2"}).then_error(error_code::app_not_found);
  given<ap>().when(change_app_settings{.default_mode = output_mode::cmaf}).then_error(error_code::app_not_found);
}

BOOST_AUTO_TEST_CASE(change_settings_records_only_what_changed) {
  const auto s = given<ap>({created()})
                     .when(change_app_settings{.default_mode = output_mode::cmaf, .default_profile_id = 1}, ctx(5))
                     .then({app_settings_changed{.default_mode = output_mode::cmaf, .at = at(5)}});
  BOOST_TEST(s.default_mode == output_mode::cmaf);
  const auto s2 = given<ap>({created()})
                      .when(change_app_settings{.default_profile_id = 2}, ctx(5))
                      .then({app_settings_changed{.default_profile_id = 2, .at = at(5)}});
  BOOST_TEST(s2.default_profile_id == 2);
}

BOOST_AUTO_TEST_CASE(change_settings_without_change_is_a_no_op) {
  given<ap>({created()}).when(change_app_settings{.default_mode = output_mode::rtmp}).then_nothing();
  given<ap>({created()}).when(change_app_settings{}).then_nothing();
}

BOOST_AUTO_TEST_CASE(change_settings_with_unknown_profile_is_refused) {
  given<ap>({created()})
      .when(change_app_settings{.default_profile_id = 99})
      .then_error(error_code::transcoding_profile_not_found, "defaultProfileId");
}

// (beyond) The reconnect window: a room left LIVE_INACTIVE longer ends itself.
BOOST_AUTO_TEST_CASE(change_settings_sets_the_reconnect_window) {
  const auto s = given<ap>({created()})
                     .when(change_app_settings{.reconnect_window_s = 120}, ctx(5))
                     .then({app_settings_changed{.reconnect_window_s = 120, .at = at(5)}});
  BOOST_TEST(s.reconnect_window_s == 120);
}

BOOST_AUTO_TEST_CASE(the_reconnect_window_is_off_by_default) {
  BOOST_TEST(given<ap>({created()}).state().reconnect_window_s == 0);
}

BOOST_AUTO_TEST_CASE(a_reconnect_window_out_of_range_is_refused) {
  given<ap>({created()})
      .when(change_app_settings{.reconnect_window_s = -1})
      .then_error(error_code::invalid_parameter, "reconnectWindowSeconds");
  given<ap>({created()})
      .when(change_app_settings{.reconnect_window_s = max_reconnect_window_s + 1})
      .then_error(error_code::invalid_parameter, "reconnectWindowSeconds");
}

BOOST_AUTO_TEST_SUITE_END()

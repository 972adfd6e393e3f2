// The conventions the codecs, store and API rely on: event types named category.snake_case,
// unique per aggregate; field names unique per struct; enum names round-trip; error codes named.
#include <set>
#include <string>
#include <utility>
#include <variant>

#include "domain/app.hpp"
#include "domain/broadcast.hpp"
#include "domain/member.hpp"
#include "domain/stream_key.hpp"
#include "domain/video_post.hpp"
#include "domain/video_room.hpp"
#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

template <class T>
std::set<std::string> field_names(std::size_t& count) {
  std::set<std::string> names;
  T x{};
  for_each_field(x, [&](std::string_view name, const auto&) {
    names.emplace(name);
    ++count;
  });
  return names;
}

template <class T>
void check_fields(std::string_view owner) {
  std::size_t count = 0;
  const auto names = field_names<T>(count);
  BOOST_CHECK_MESSAGE(names.size() == count, owner << ": duplicate field names");
  for (const auto& n : names) {
    BOOST_CHECK_MESSAGE(!n.empty() && n.find('_') == std::string::npos, owner << ": field '" << n << "' is not camelCase");
  }
}

// One event type E of aggregate A: named "<category>.snake_case", fields described, an `at`.
template <aggregate A, class E>
void check_event(const std::string& prefix, std::set<std::string_view>& types) {
  const std::string_view type = E::type;
  BOOST_CHECK_MESSAGE(type.starts_with(prefix), type << " does not start with " << prefix);
  for (const char c : type.substr(prefix.size()))
    BOOST_CHECK_MESSAGE((c >= 'a' && c <= 'z') || c == '_', type << " is not snake_case");
  types.insert(type);
  check_fields<E>(type);
  std::size_t count = 0;
  BOOST_CHECK_MESSAGE(field_names<E>(count).count("at") == 1, type << " has no 'at' field");
  // Events are equality-comparable and printable.
  BOOST_TEST((E{} == E{}));
  BOOST_TEST(!show(E{}).empty());
}

// Folds over the alternatives with plain function templates (clang 14 crashes on a template
// lambda expanding lambdas).
template <aggregate A, std::size_t... I>
void check_events(const std::string& prefix, std::set<std::string_view>& types, std::index_sequence<I...>) {
  (check_event<A, std::variant_alternative_t<I, typename A::event>>(prefix, types), ...);
}

template <aggregate A, std::size_t... I>
void check_commands(std::index_sequence<I...>) {
  (check_fields<std::variant_alternative_t<I, typename A::command>>("command"), ...);
}

template <aggregate A>
void check_aggregate() {
  const std::string prefix = std::string{A::category} + ".";
  std::set<std::string_view> types;
  constexpr std::size_t n = std::variant_size_v<typename A::event>;
  check_events<A>(prefix, types, std::make_index_sequence<n>{});
  BOOST_TEST(types.size() == n);
  check_commands<A>(std::make_index_sequence<std::variant_size_v<typename A::command>>{});
  check_fields<typename A::state>(A::category);
  BOOST_TEST(!show(A::initial_state()).empty());
}

template <named_enum E>
void check_enum() {
  std::set<std::string_view> names;
  for (const auto& [value, name] : enum_names<E>::entries) {
    E back{};
    BOOST_TEST(from_string(name, back));
    BOOST_TEST((back == value));
    BOOST_TEST(to_string(value) == name);
    names.insert(name);
  }
  BOOST_TEST(names.size() == enum_names<E>::entries.size());
  E out{};
  BOOST_TEST(!from_string("NOPE", out));
}

} // namespace

BOOST_AUTO_TEST_SUITE(conventions)

BOOST_AUTO_TEST_CASE(every_aggregate_follows_the_event_and_field_conventions) {
  check_aggregate<app_aggregate>();
  check_aggregate<member_aggregate>();
  check_aggregate<stream_key_aggregate>();
  check_aggregate<video_room_aggregate>();
  check_aggregate<broadcast_aggregate>();
  check_aggregate<video_post_aggregate>();
}

BOOST_AUTO_TEST_CASE(enum_names_round_trip) {
  check_enum<output_mode>();
  check_enum<key_state>();
  check_enum<member_state>();
  check_enum<room_state>();
  check_enum<vod_state>();
  check_enum<room_type>();
  check_enum<access_level>();
  check_enum<broadcast_state>();
  check_enum<post_state>();
  check_enum<post_type>();
  check_enum<profile_type>();
  check_enum<orientation>();
}

BOOST_AUTO_TEST_CASE(enum_names_are_spelled_as_api_md) {
  BOOST_TEST(to_string(key_state::active_live_prep) == "ACTIVE_LIVE_PREP");
  BOOST_TEST(to_string(output_mode::rtmp_cmaf) == "RTMP_CMAF");
  BOOST_TEST(to_string(room_state::live_inactive) == "LIVE_INACTIVE");
  BOOST_TEST(to_string(vod_state::failed_archiving) == "FAILED_ARCHIVING");
  BOOST_TEST(to_string(room_type::broadcast_rtmp) == "BROADCAST_RTMP");
  BOOST_TEST(to_string(access_level::public_) == "PUBLIC");
  BOOST_TEST(to_string(post_type::live_recorded) == "LIVE_RECORDED");
}

BOOST_AUTO_TEST_CASE(error_codes_round_trip) {
  for (const auto code : {error_code::invalid_app_user_id, error_code::stream_key_in_use,
                          error_code::video_room_vod_state_not_archiving, error_code::internal}) {
    error_code back{};
    BOOST_TEST(from_string(to_string(code), back));
    BOOST_TEST((back == code));
  }
  BOOST_TEST(to_string(error_code::video_room_vod_state_not_archiving) == "VIDEO_ROOM_VOD_STATE_NOT_ARCHIVING");
}

BOOST_AUTO_TEST_CASE(stream_ids_name_category_app_and_id) {
  const stream_id member_stream{.category = member_aggregate::category, .app = 1, .id = "alice"};
  const stream_id key_stream{.category = stream_key_aggregate::category, .app = 2, .id = "7"};
  BOOST_TEST(member_stream.str() == "member/1/alice");
  BOOST_TEST(key_stream.str() == "stream_key/2/7");
}

BOOST_AUTO_TEST_SUITE_END()

// Member: upsert (register or update), patch, delete, and the api.md input rules.
#include "domain/member.hpp"

#include "given_when_then.hpp"

using namespace onair::domain;
using namespace onair::domain::testing;

namespace {

using mb = member_aggregate;

member_registered registered() {
  return member_registered{.id = 101,
                           .app_user_id = "alice",
                           .app_user_name = "Alice",
                           .app_user_profile_img_url = "http://img/a.png",
                           .email = "a@example.com",
                           .custom_type = "vip",
                           .custom_data = {{"tier", "gold"}},
                           .stream_key_id = 201,
                           .at = at(0)};
}

upsert_member upsert() {
  return upsert_member{.app_user_id = "alice",
                       .app_user_name = "Alice",
                       .app_user_profile_img_url = "http://img/a.png",
                       .email = "a@example.com",
                       .custom_type = "vip",
                       .custom_data = std::map<std::string, std::string>{{"tier", "gold"}}};
}

member_deleted deleted() {
  return member_deleted{.id = 101, .app_user_id = "alice", .stream_key_id = 201, .at = at(9)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(member_upsert)

BOOST_AUTO_TEST_CASE(first_upsert_registers_with_new_member_and_stream_key_ids) {
  const auto s = given<mb>().when(upsert(), ctx(0, 1)).then({registered()});
  BOOST_TEST(s.present());
  BOOST_TEST(s.id == 101);
  BOOST_TEST(s.stream_key_id == 201);
  BOOST_TEST(s.state == member_state::active);
  BOOST_TEST(s.created_at == at(0));
  BOOST_TEST(s.last_modified_at == at(0));
}

BOOST_AUTO_TEST_CASE(first_upsert_with_only_app_user_id_registers_with_empty_fields) {
  given<mb>()
      .when(upsert_member{.app_user_id = "bob"}, ctx(0, 1))
      .then({member_registered{.id = 101, .app_user_id = "bob", .stream_key_id = 201, .at = at(0)}});
}

BOOST_AUTO_TEST_CASE(later_upsert_updates_only_changed_fields) {
  auto c = upsert();
  c.app_user_name = "Alice B.";
  c.email.reset(); // absent: unchanged
  const auto s = given<mb>({registered()})
                     .when(c, ctx(5, 2))
                     .then({member_updated{.app_user_name = "Alice B.", .at = at(5)}});
  BOOST_TEST(s.app_user_name == "Alice B.");
  BOOST_TEST(s.email == "a@example.com");
  BOOST_TEST(s.id == 101);
  BOOST_TEST(s.last_modified_at == at(5));
  BOOST_TEST(s.created_at == at(0));
}

BOOST_AUTO_TEST_CASE(upsert_without_change_is_a_no_op) {
  given<mb>({registered()}).when(upsert(), ctx(5, 2)).then_nothing();
  given<mb>({registered()}).when(upsert_member{.app_user_id = "alice"}, ctx(5, 2)).then_nothing();
}

BOOST_AUTO_TEST_CASE(upsert_after_deletion_registers_again_with_new_ids) {
  auto expected = registered();
  expected.id = 103;
  expected.stream_key_id = 203;
  expected.at = at(20);
  const auto s = given<mb>({registered(), deleted()}).when(upsert(), ctx(20, 3)).then({expected});
  BOOST_TEST(s.present());
  BOOST_TEST(!s.deleted);
  BOOST_TEST(s.id == 103);
  BOOST_TEST(s.created_at == at(20));
}

BOOST_AUTO_TEST_CASE(upsert_of_another_app_user_id_on_this_stream_is_refused) {
  auto c = upsert();
  c.app_user_id = "mallory";
  given<mb>({registered()}).when(c).then_error(error_code::invalid_parameter, "appUserId");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(member_patch_delete)

BOOST_AUTO_TEST_CASE(patch_updates_changed_fields) {
  const auto s = given<mb>({registered()})
                     .when(patch_member{.email = "new@example.com",
                                        .custom_data = std::map<std::string, std::string>{}},
                           ctx(5))
                     .then({member_updated{.email = "new@example.com",
                                           .custom_data = std::map<std::string, std::string>{},
                                           .at = at(5)}});
  BOOST_TEST(s.email == "new@example.com");
  BOOST_TEST(s.custom_data.empty());
}

BOOST_AUTO_TEST_CASE(patch_without_change_is_a_no_op) {
  given<mb>({registered()}).when(patch_member{.app_user_name = "Alice"}).then_nothing();
}

BOOST_AUTO_TEST_CASE(patch_of_unregistered_member_is_refused_not_found) {
  given<mb>().when(patch_member{.app_user_name = "x"}).then_error(error_code::member_not_found);
}

BOOST_AUTO_TEST_CASE(patch_of_deleted_member_is_refused_not_found) {
  given<mb>({registered(), deleted()}).when(patch_member{.app_user_name = "x"}).then_error(error_code::member_not_found);
}

BOOST_AUTO_TEST_CASE(patch_with_oversized_custom_type_is_refused) {
  given<mb>({registered()})
      .when(patch_member{.custom_type = std::string(51, 't')})
      .then_error(error_code::custom_type_size_upper_limit_exceeded, "customType");
}

BOOST_AUTO_TEST_CASE(delete_emits_member_deleted_with_stream_key) {
  const auto s = given<mb>({registered()}).when(delete_member{}, ctx(9)).then({deleted()});
  BOOST_TEST(s.deleted);
  BOOST_TEST(!s.present());
  BOOST_TEST(s.last_modified_at == at(9));
}

BOOST_AUTO_TEST_CASE(delete_of_unregistered_member_is_refused_not_found) {
  given<mb>().when(delete_member{}).then_error(error_code::member_not_found);
}

BOOST_AUTO_TEST_CASE(delete_of_deleted_member_is_refused_not_found) {
  given<mb>({registered(), deleted()}).when(delete_member{}).then_error(error_code::member_not_found);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(member_erase)

BOOST_AUTO_TEST_CASE(erasing_a_present_member_deletes_it_then_records_the_erasure) {
  const auto s = given<mb>({registered()})
                     .when(erase_member{}, ctx(9))
                     .then({deleted(), member_erased{.id = 101, .app_user_id = "alice", .at = at(9)}});
  BOOST_TEST(!s.present());
  BOOST_TEST(s.erased);
  BOOST_TEST(s.app_user_name.empty());
  BOOST_TEST(s.app_user_profile_img_url.empty());
  BOOST_TEST(s.email.empty());
  BOOST_TEST(s.custom_data.empty());
  BOOST_TEST(s.custom_type == "vip"); // a category the app chose, not the person's data
  BOOST_TEST(s.last_modified_at == at(9));
}

BOOST_AUTO_TEST_CASE(erasing_a_deleted_member_records_only_the_erasure) {
  given<mb>({registered(), deleted()})
      .when(erase_member{}, ctx(12))
      .then({member_erased{.id = 101, .app_user_id = "alice", .at = at(12)}});
}

BOOST_AUTO_TEST_CASE(erasing_twice_records_nothing_more) {
  given<mb>({registered(), deleted(), member_erased{.id = 101, .app_user_id = "alice", .at = at(12)}})
      .when(erase_member{})
      .then({});
}

BOOST_AUTO_TEST_CASE(erasing_a_member_never_registered_is_refused_not_found) {
  given<mb>().when(erase_member{}).then_error(error_code::member_not_found);
}

BOOST_AUTO_TEST_CASE(registering_again_after_an_erasure_is_a_new_member_with_its_own_data) {
  auto again = registered();
  again.id = 102;
  again.stream_key_id = 202;
  again.at = at(20);
  auto s = given<mb>({registered(), deleted(), member_erased{.id = 101, .app_user_id = "alice", .at = at(12)}})
               .when(upsert(), ctx(20, 2))
               .then({again});
  BOOST_TEST(s.present());
  BOOST_TEST(!s.erased);
  BOOST_TEST(s.email == "a@example.com");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(member_validation)

BOOST_AUTO_TEST_CASE(app_user_id_of_64_characters_is_accepted) {
  const std::string id(64, 'a');
  given<mb>().when(upsert_member{.app_user_id = id}, ctx(0, 1)).then({member_registered{
      .id = 101, .app_user_id = id, .stream_key_id = 201, .at = at(0)}});
}

BOOST_AUTO_TEST_CASE(app_user_id_of_65_characters_is_refused) {
  given<mb>().when(upsert_member{.app_user_id = std::string(65, 'a')}).then_error(error_code::invalid_app_user_id, "appUserId");
}

BOOST_AUTO_TEST_CASE(empty_app_user_id_is_refused) {
  given<mb>().when(upsert_member{.app_user_id = ""}).then_error(error_code::invalid_app_user_id, "appUserId");
}

BOOST_AUTO_TEST_CASE(app_user_id_with_every_allowed_character_class_is_accepted) {
  given<mb>().when(upsert_member{.app_user_id = "Az09_-"}, ctx(0, 1)).then({member_registered{
      .id = 101, .app_user_id = "Az09_-", .stream_key_id = 201, .at = at(0)}});
}

BOOST_AUTO_TEST_CASE(app_user_id_with_bad_characters_is_refused) {
  for (const std::string bad : {"a b", "a.b", "a/b", "a@b", "é", "a\nb", "a+b"})
    BOOST_TEST_CONTEXT("appUserId '" << bad << "'") {
      given<mb>().when(upsert_member{.app_user_id = bad}).then_error(error_code::invalid_app_user_id, "appUserId");
    }
}

BOOST_AUTO_TEST_CASE(custom_type_of_50_is_accepted_and_51_refused) {
  auto c = upsert_member{.app_user_id = "alice", .custom_type = std::string(50, 't')};
  given<mb>().when(c, ctx(0, 1)).then({member_registered{
      .id = 101, .app_user_id = "alice", .custom_type = std::string(50, 't'), .stream_key_id = 201, .at = at(0)}});
  c.custom_type = std::string(51, 't');
  given<mb>().when(c).then_error(error_code::custom_type_size_upper_limit_exceeded, "customType");
}

BOOST_AUTO_TEST_CASE(custom_type_counts_characters_not_bytes) {
  std::string fifty;
  for (int i = 0; i < 50; ++i)
    fifty += "\xC3\xA9"; // é: 2 bytes, 1 character
  const auto c = upsert_member{.app_user_id = "alice", .custom_type = fifty};
  given<mb>().when(c, ctx(0, 1)).then({member_registered{
      .id = 101, .app_user_id = "alice", .custom_type = fifty, .stream_key_id = 201, .at = at(0)}});
}

BOOST_AUTO_TEST_CASE(custom_data_of_10_items_is_accepted_and_11_refused) {
  std::map<std::string, std::string> data;
  for (int i = 0; i < 10; ++i)
    data["k" + std::to_string(i)] = "v";
  given<mb>().when(upsert_member{.app_user_id = "alice", .custom_data = data}, ctx(0, 1)).then({member_registered{
      .id = 101, .app_user_id = "alice", .custom_data = data, .stream_key_id = 201, .at = at(0)}});
  data["k10"] = "v";
  given<mb>()
      .when(upsert_member{.app_user_id = "alice", .custom_data = data})
      .then_error(error_code::custom_data_item_count_upper_limit_exceeded, "customData");
}

BOOST_AUTO_TEST_CASE(custom_data_name_of_50_is_accepted_and_51_refused) {
  std::map<std::string, std::string> data{{std::string(50, 'n'), "v"}};
  given<mb>().when(upsert_member{.app_user_id = "alice", .custom_data = data}, ctx(0, 1)).then({member_registered{
      .id = 101, .app_user_id = "alice", .custom_data = data, .stream_key_id = 201, .at = at(0)}});
  data = {{std::string(51, 'n'), "v"}};
  given<mb>()
      .when(upsert_member{.app_user_id = "alice", .custom_data = data})
      .then_error(error_code::custom_data_item_name_size_upper_limit_exceeded, "customData");
}

BOOST_AUTO_TEST_CASE(custom_data_value_of_50_is_accepted_and_51_refused) {
  std::map<std::string, std::string> data{{"k", std::string(50, 'v')}};
  given<mb>().when(upsert_member{.app_user_id = "alice", .custom_data = data}, ctx(0, 1)).then({member_registered{
      .id = 101, .app_user_id = "alice", .custom_data = data, .stream_key_id = 201, .at = at(0)}});
  data = {{"k", std::string(51, 'v')}};
  given<mb>()
      .when(upsert_member{.app_user_id = "alice", .custom_data = data})
      .then_error(error_code::custom_data_item_value_size_upper_limit_exceeded, "customData");
}

BOOST_AUTO_TEST_SUITE_END()

#include "storage/queries.hpp"

namespace onair::storage {

using namespace onair::domain;

page<member> list_members(const kv_reader& r, app_id app, const page_request& req, const member_filter& f) {
  return list_views<member_aggregate>(r, app, req, [&](const member& m) {
    return m.present() && (!f.app_user_id_prefix || m.app_user_id.rfind(*f.app_user_id_prefix, 0) == 0);
  });
}

page<video_room> list_rooms(const kv_reader& r, app_id app, const page_request& req, const room_filter& f) {
  return list_views<video_room_aggregate>(r, app, req, [&](const video_room& v) {
    return v.exists && (!f.state || v.state == *f.state) && (!f.type || v.type == *f.type) &&
           (!f.app_user_id || v.app_user_id == *f.app_user_id);
  });
}

page<stream_key> list_keys(const kv_reader& r, app_id app, const page_request& req, const key_filter& f) {
  return list_views<stream_key_aggregate>(
      r, app, req, [&](const stream_key& k) { return k.exists && (!f.state || k.state == *f.state); });
}

page<video_post> list_posts(const kv_reader& r, app_id app, const page_request& req, const post_filter& f) {
  return list_views<video_post_aggregate>(r, app, req, [&](const video_post& p) {
    return p.present() && (!f.video_room_id || p.room_id == *f.video_room_id) &&
           (!f.app_user_id || p.app_user_id == *f.app_user_id);
  });
}

} // namespace onair::storage

#include "storage/personal_data.hpp"

#include <algorithm>
#include <array>
#include <memory>

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "storage/crypto.hpp"

namespace onair::storage::personal {

using domain::error_code;
using domain::make_error;
using nlohmann::json;

namespace {

constexpr std::array<std::string_view, 4> member_fields{"appUserName", "appUserProfileImgUrl", "email", "customData"};
constexpr std::array<std::string_view, 1> name_only{"appUserName"};
constexpr std::string_view registration_type = "member.registered";
constexpr std::string_view aad_tag = "onair.personal.v1";
constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string aad_of(std::string_view key_id) {
  std::string aad{aad_tag};
  aad.push_back('\0');
  aad.append(key_id);
  return aad;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0)
    return std::nullopt;
  std::size_t size = static_cast<std::size_t>(n);
  for (auto it = text.rbegin(); it != text.rend() && *it == '=' && size > 0; ++it)
    --size; // EVP_DecodeBlock counts the padding as zero bytes
  out.resize(size);
  return out;
}

std::optional<std::string> encrypt(const data_key& key, std::string_view plain) {
  std::array<unsigned char, nonce_size> nonce{};
  if (!crypto::random_bytes(nonce.data(), nonce.size()))
    return std::nullopt;
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  const auto aad = aad_of(key.id);
  std::string out(nonce_size + plain.size() + tag_size, '\0');
  std::copy(nonce.begin(), nonce.end(), out.begin());
  auto* body = reinterpret_cast<unsigned char*>(out.data() + nonce_size);
  int n = 0, tail = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), crypto::aes_256_gcm(), nullptr, key.bytes.data(), nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), body + plain.size()) != 1)
    return std::nullopt;
  return out;
}

std::optional<std::string> decrypt(const data_key& key, std::string_view box) {
  if (box.size() < nonce_size + tag_size)
    return std::nullopt;
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  const auto body = box.substr(nonce_size, box.size() - nonce_size - tag_size);
  std::string tag{box.substr(box.size() - tag_size)};
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  const auto aad = aad_of(key.id);
  std::string out(body.size(), '\0');
  int n = 0, tail = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), crypto::aes_256_gcm(), nullptr, key.bytes.data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                        reinterpret_cast<const unsigned char*>(body.data()), static_cast<int>(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &tail) != 1)
    return std::nullopt;
  return out;
}

std::optional<std::string> owner_of(std::string_view category, std::string_view id, const json& obj) {
  if (auto it = obj.find("appUserId"); it != obj.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
    return it->get<std::string>();
  if (category == "member" && !id.empty())
    return std::string{id};
  return std::nullopt;
}

} // namespace

std::span<const std::string_view> fields_of(std::string_view category) {
  if (category == "member")
    return member_fields;
  if (category == "video_room" || category == "video_post")
    return name_only;
  return {};
}

bool marked(const json& obj) { return obj.is_object() && obj.contains(marker); }

status seal(key_ring& ring, std::string_view category, domain::app_id app, std::string_view id, json& obj,
            key_ring::lookup how, const opened_box* reuse) {
  const auto fields = fields_of(category);
  if (fields.empty() || !obj.is_object() || obj.contains(marker))
    return domain::ok_status();
  json plain = json::object();
  json names = json::array();
  for (const auto name : fields) {
    const std::string key{name};
    if (auto it = obj.find(key); it != obj.end() && !it->is_null()) {
      plain[key] = *it;
      names.push_back(key);
    }
  }
  if (plain.empty())
    return domain::ok_status();
  const auto owner = owner_of(category, id, obj);
  if (!owner)
    return domain::ok_status(); // no member's (a room or post made without one)
  auto found = ring.key_of(app, *owner, how);
  if (!found)
    return std::move(found).error();
  if (!found->key && !found->erased)
    return domain::ok_status(); // written before sealing, and nothing new asked for a key
  for (const auto& name : names)
    obj.erase(name.get<std::string>());
  if (!found->key) {
    obj[std::string{marker}] = json{{"fields", std::move(names)}, {"erased", true}};
    return domain::ok_status();
  }
  if (reuse && reuse->plain == plain && reuse->marker.value("keyId", std::string{}) == found->key->id &&
      reuse->marker.value("fields", json{}) == names) {
    obj[std::string{marker}] = reuse->marker;
    return domain::ok_status();
  }
  auto box = encrypt(*found->key, plain.dump());
  if (!box)
    return make_error(error_code::internal, "sealing personal data of " + std::string{category} + "/" +
                                                std::string{id} + ": encryption failed");
  obj[std::string{marker}] = json{{"keyId", found->key->id}, {"fields", std::move(names)}, {"sealed", base64(*box)}};
  return domain::ok_status();
}

status seal_event_data(key_ring& ring, std::string_view category, domain::app_id app, std::string_view id,
                       std::string_view type, json& data) {
  if (fields_of(category).empty())
    return domain::ok_status();
  if (!data.is_object())
    return make_error(error_code::internal, "sealing " + std::string{type} + ": data is not a JSON object");
  const auto how = type == registration_type ? key_ring::lookup::renew : key_ring::lookup::create;
  return seal(ring, category, app, id, data, how);
}

void open(const key_ring* ring, json& obj, opened_box* was) {
  if (!ring || !obj.is_object())
    return;
  auto it = obj.find(marker);
  if (it == obj.end() || !it->is_object())
    return;
  json& m = *it;
  auto sealed = m.find("sealed");
  if (sealed == m.end() || !sealed->is_string())
    return; // opened or erased already
  std::optional<json> plain;
  const auto id = m.find("keyId");
  const auto key_id = id != m.end() && id->is_string() ? id->get<std::string>() : std::string{};
  if (auto key = ring->find(key_id)) {
    auto box = unbase64(sealed->get_ref<const std::string&>());
    auto text = box ? decrypt(*key, *box) : std::nullopt;
    if (text)
      if (auto j = json::parse(*text, nullptr, false); j.is_object())
        plain = std::move(j);
    if (!plain) {
      spdlog::warn("personal data sealed under key {} does not open", key_id);
      m.erase("sealed");
      m["erased"] = false;
      m["unreadable"] = true;
      return;
    }
  }
  if (was && plain)
    was->marker = m;
  m.erase("sealed");
  m["erased"] = !plain;
  if (plain)
    for (const auto& [name, value] : plain->items())
      obj[name] = value;
  if (was && plain)
    was->plain = std::move(*plain);
}

} // namespace onair::storage::personal

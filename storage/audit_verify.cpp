#include "storage/audit_verify.hpp"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

#include "domain/time.hpp"
#include "storage/cloud_events.hpp"
#include "storage/codec.hpp"
#include "storage/personal_data.hpp"

namespace onair::storage::audit {

std::optional<breakage> chain_checker::next(const event_record& r, const sha256_digest& data_hash) {
  ++events_;
  const auto chain = chain_of(r.stream);
  auto& s = chains_[chain];
  const auto broken = [&](std::string what) { return breakage{r.position, chain, std::move(what)}; };
  if (r.chain_seq == 0) {
    ++unchained_;
    if (s.seq != 0)
      return broken(fmt::format("an event without a chain link after chain {}'s event {}", chain, s.seq));
    return std::nullopt;
  }
  if (r.chain_seq != s.seq + 1) {
    if (r.chain_seq > s.seq + 1)
      return broken(fmt::format("chain {} jumps from event {} (position {}) to {}: {} missing or out of order", chain,
                                s.seq, s.position, r.chain_seq,
                                r.chain_seq - s.seq - 1 == 1 ? std::string{"one event is"}
                                                             : fmt::format("{} events are", r.chain_seq - s.seq - 1)));
    return broken(fmt::format("chain {}'s event {} comes after its event {} (position {}): out of order", chain,
                              r.chain_seq, s.seq, s.position));
  }
  if (r.prev_hash != s.hash)
    return broken(fmt::format("does not follow chain {}'s previous event (position {}): its link names another",
                              chain, s.position));
  if (link_hash(chain, r, data_hash) != r.hash)
    return broken(fmt::format("its bytes do not match its hash: changed after it was written ({} v{} {})", r.stream,
                              r.version, r.type));
  if (r.type == checkpoint_type) {
    const auto c = checkpoint::from_json(r.data);
    if (!c)
      return broken("a checkpoint that does not parse");
    if (c->chain != chain || c->seq != s.seq || c->position != s.position || c->hash != s.hash)
      return broken(fmt::format("a checkpoint of chain {} event {} that is not the chain's head (chain {} event {})",
                                c->chain, c->seq, chain, s.seq));
    if (key_) {
      if (c->key_id != key_->key_id())
        return broken(fmt::format("a checkpoint signed by key {}, not by {}", c->key_id, key_->key_id()));
      if (!key_->verify(c->message(), c->signature))
        return broken("a checkpoint whose signature does not verify");
    }
    ++checkpoints_;
    s.signed_seq = r.chain_seq;
    s.signed_position = r.position;
  }
  s.seq = r.chain_seq;
  s.position = r.position;
  s.hash = r.hash;
  return std::nullopt;
}

domain::result<verify_report> verify_store(event_store& store, const verify_options& opts) {
  chain_checker checker{opts.key};
  verify_report report;
  const auto last = store.last_position();
  std::uint64_t expected = 1;
  auto scanned = store.scan_log(0, [&](std::uint64_t position, const event_record* rec) {
    if (position != expected) {
      report.broken = breakage{expected, 0,
                               position == expected + 1 ? fmt::format("position {} is missing from the log", expected)
                                                        : fmt::format("positions {} to {} are missing from the log",
                                                                      expected, position - 1)};
      return false;
    }
    ++expected;
    if (!rec) {
      report.broken = breakage{position, 0, "the stored record does not decode"};
      return false;
    }
    if (auto b = checker.next(*rec, sha256(rec->data))) {
      report.broken = std::move(b);
      return false;
    }
    if (opts.progress && position % 10000 == 0)
      opts.progress(position, last);
    return true;
  });
  if (!scanned)
    return std::move(scanned).error();
  report.events = checker.events();
  report.unchained = checker.unchained();
  report.checkpoints = checker.checkpoints();
  report.chains = checker.chains();
  if (!report.broken && expected <= last)
    report.broken = breakage{expected, 0, fmt::format("the log ends at {} but the store counts {} events", expected - 1, last)};
  if (report.broken)
    return report;
  // Each chain ends where the store's head says: nothing was cut off its end.
  auto heads = store.chain_heads();
  if (!heads)
    return std::move(heads).error();
  for (const auto& [chain, head] : *heads) {
    const auto it = report.chains.find(chain);
    const auto seq = it == report.chains.end() ? 0 : it->second.seq;
    if (seq != head.seq || (it != report.chains.end() && it->second.hash != head.hash)) {
      report.broken = breakage{head.position, chain,
                               fmt::format("chain {} ends at event {} but its head is event {} at position {}: "
                                           "events at its end are missing or changed",
                                           chain, seq, head.seq, head.position)};
      break;
    }
  }
  if (opts.progress)
    opts.progress(last, last);
  return report;
}

namespace {

// Does shown data hold a value the feed masked (storage/cloud_events.cpp: stream key values)?
bool masks_a_secret(const nlohmann::json& j) {
  if (j.is_array())
    return std::any_of(j.begin(), j.end(), [](const nlohmann::json& v) { return masks_a_secret(v); });
  if (!j.is_object())
    return false;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (((it.key() == "streamKey" || it.key() == "newStreamKey") && it.value() == "***") || masks_a_secret(it.value()))
      return true;
  return false;
}

// A whole number as shown, or a throw: JSON floats and negative values are not converted (a float
// out of the integer's range would be undefined behaviour in the conversion).
template <class T>
T whole_number(const nlohmann::json& j) {
  if (!j.is_number_integer() || (std::is_unsigned_v<T> && !j.is_number_unsigned()))
    throw std::invalid_argument("not a whole number");
  return j.get<T>();
}

} // namespace

std::optional<shown_event> from_cloud_event(const nlohmann::json& ce) {
  using nlohmann::json;
  if (!ce.is_object() || !ce.contains("onairchainseq"))
    return std::nullopt;
  try {
    shown_event out;
    auto& r = out.record;
    // source /apps/{app}/{category}/{id} -> stream {category}/{app}/{id}
    const auto source = ce.at("source").get<std::string>();
    if (source.rfind("/apps/", 0) != 0)
      return std::nullopt;
    const auto app_end = source.find('/', 6);
    const auto category_end = app_end == std::string::npos ? app_end : source.find('/', app_end + 1);
    if (category_end == std::string::npos)
      return std::nullopt;
    r.stream = source.substr(app_end + 1, category_end - app_end - 1) + "/" + source.substr(6, app_end - 6) + "/" +
               source.substr(category_end + 1);
    const auto type = ce.at("type").get<std::string>();
    if (type.rfind("onair.", 0) != 0)
      return std::nullopt;
    r.type = type.substr(6);
    r.position = std::stoull(ce.at("id").get<std::string>());
    const auto time = domain::parse_iso8601(ce.at("time").get<std::string>());
    if (!time)
      return std::nullopt;
    r.time_ms = time->ms;
    json data = ce.at("data");
    r.version = whole_number<std::int64_t>(data.at("version"));
    data.erase("version");
    data.erase("position");
    // The stored data had no secret masked and no personal data sealed: it is the shown data as
    // the store wrote it (sorted keys, no spaces). A stream key value the feed masks, and a
    // member's personal data the feed shows opened (or erased), are checked by the hash alone.
    out.redacted = masks_a_secret(data) || personal::marked(data);
    r.data = data.dump();
    domain::provenance who;
    const auto attribute = [&ce](const char* name) { return ce.contains(name) ? ce[name].get<std::string>() : std::string{}; };
    who.principal = attribute("onairprincipal");
    who.client_ip = attribute("onairclientip");
    who.user_agent = attribute("onairuseragent");
    who.request_id = attribute("onairrequestid");
    who.correlation_id = attribute("onaircorrelationid");
    who.causation_id = attribute("onaircausationid");
    r.meta = encode_provenance(who);
    r.chain_seq = whole_number<std::uint64_t>(ce.at("onairchainseq"));
    const auto prev = parse_digest(ce.at("onairprevhash").get<std::string>());
    const auto hash = parse_digest(ce.at("onairhash").get<std::string>());
    const auto data_hash = parse_digest(ce.at("onairdatahash").get<std::string>());
    if (!prev || !hash || !data_hash)
      return std::nullopt;
    r.prev_hash = *prev;
    r.hash = *hash;
    out.data_hash = *data_hash;
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool shown_verifier::add(const nlohmann::json& ce) {
  if (broken_)
    return false;
  auto shown = from_cloud_event(ce);
  if (!shown) {
    if (ce.is_object() && ce.contains("onairchainseq")) {
      const auto id = ce.find("id");
      broken_ = breakage{0, 0,
                         "an event whose chain link does not parse: " +
                             (id != ce.end() && id->is_string() ? id->get<std::string>() : std::string{"?"})};
      return false;
    }
    ++unchained_;
    return true;
  }
  if (!shown->redacted && sha256(shown->record.data) != shown->data_hash) {
    broken_ = breakage{shown->record.position, chain_of(shown->record.stream),
                       fmt::format("its data is not what was stored ({} v{} {})", shown->record.stream,
                                   shown->record.version, shown->record.type)};
    return false;
  }
  broken_ = checker_.next(shown->record, shown->data_hash);
  return !broken_;
}

verify_report shown_verifier::report() const {
  verify_report r;
  r.events = checker_.events() + unchained_;
  r.unchained = checker_.unchained() + unchained_;
  r.checkpoints = checker_.checkpoints();
  r.chains = checker_.chains();
  r.broken = broken_;
  return r;
}

} // namespace onair::storage::audit

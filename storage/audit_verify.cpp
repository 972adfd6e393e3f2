#include "storage/audit_verify.hpp"

#include <fmt/format.h>

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

} // namespace onair::storage::audit

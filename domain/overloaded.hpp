#pragma once
// Visitor from lambdas: std::visit(overloaded{[](const a&) {...}, [](const b&) {...}}, v).
// Deciders list every alternative explicitly, so a new command or event without a handler
// fails to compile instead of being silently ignored.

namespace onair::domain {

template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

} // namespace onair::domain

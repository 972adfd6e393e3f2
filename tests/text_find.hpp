#pragma once
// What tests ask of a text (a playlist, an MPD): whether it holds a piece, and how often.
#include <string>

namespace onair::testing {

inline bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

inline int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace onair::testing

#pragma once

// CSV as every export writes it (RFC 4180): fields joined by commas, a field quoted when it
// holds a comma, a quote, a line break or leading or trailing spaces, quotes doubled.

#include <string>
#include <vector>

namespace tl {

/// One field, quoted when needed.
std::string csvField(const std::string &text);

/// One line: the fields, quoted when needed, joined by commas, with "\n".
std::string csvRow(const std::vector<std::string> &fields);

} // namespace tl

#pragma once

#include <stdexcept>
#include <string>

namespace tl {

/// The one exception type core throws for bad input or failed I/O. Its message is
/// meant for the user: it names the file, line, key or field at fault.
class Error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

} // namespace tl

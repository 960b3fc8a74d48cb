#pragma once

// Strict reading of JSON configuration objects (run specs, study files): unknown keys, wrong
// types and impossible values throw tl::Error "SOURCE: field 'a.b': reason", naming the full
// field path.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/fileio.h"

namespace tl {

/// A config file's JSON; tl::Error "PATH: invalid JSON: ..." when it is not JSON, including
/// numbers JSON allows but a double cannot hold (1e612: nlohmann's out_of_range, found by
/// fuzzing).
inline nlohmann::json readJsonFile(const std::string &path)
{
    try {
        return nlohmann::json::parse(readFileText(path));
    } catch (const nlohmann::json::exception &e) {
        throw Error(path + ": invalid JSON: " + e.what());
    }
}

/// A path written in config file `file`, resolved against that file's folder when relative, so
/// that the file means the same whatever the working directory (empty stays empty).
inline void resolveBeside(const std::string &file, std::string &path)
{
    namespace fs = std::filesystem;
    if (!path.empty() && fs::path(path).is_relative())
        path = (fs::absolute(fs::path(file)).parent_path() / path).lexically_normal().string();
}

/// "a, b, c".
inline std::string joined(const std::vector<std::string> &names)
{
    std::string out;
    for (const std::string &n : names)
        out += (out.empty() ? "" : ", ") + n;
    return out;
}

// One JSON object of a config file at a field path (name "" for the top level, "prune" for the
// prune section). Unknown keys are rejected up front: a misspelt key is the likeliest cause of
// any later error.
class JsonFields
{
public:
    JsonFields(const nlohmann::json &j, const std::string &name, const std::string &source,
               std::initializer_list<const char *> known)
        : m_json(j), m_prefix(name.empty() ? name : name + "."), m_source(source)
    {
        if (!j.is_object()) {
            if (name.empty())
                throw Error(source + ": expected a JSON object, got " + j.dump());
            failPath(name, "expected an object, got " + j.dump());
        }
        for (const auto &item : j.items())
            if (std::none_of(known.begin(), known.end(), [&](const char *k) { return item.key() == k; }))
                failPath(m_prefix + item.key(), "unknown field (known: " + joined({known.begin(), known.end()}) + ")");
    }

    [[noreturn]] void failPath(const std::string &path, const std::string &why) const
    {
        throw Error(m_source + ": field '" + path + "': " + why);
    }
    [[noreturn]] void fail(const std::string &key, const std::string &why) const { failPath(m_prefix + key, why); }

    const nlohmann::json *find(const char *key) const
    {
        auto it = m_json.find(key);
        return it == m_json.end() ? nullptr : &*it;
    }

    // Absent keeps `out`; null is accepted only where `nullable` (then it also keeps `out`).
    template <typename Int> bool integer(const char *key, Int &out, int64_t lo, int64_t hi, bool nullable = false) const
    {
        const nlohmann::json *v = value(key, nullable);
        if (!v)
            return false;
        if (!v->is_number_integer())
            fail(key, "expected an integer, got " + v->dump());
        if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))
            fail(key, "must be at most " + std::to_string(hi) + ", got " + v->dump());
        const int64_t got = v->get<int64_t>();
        if (got < lo || got > hi)
            fail(key, "must lie in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v->dump());
        out = static_cast<Int>(got); // hi fits Int
        return true;
    }

    bool number(const char *key, double &out, bool nullable = false) const
    {
        const nlohmann::json *v = value(key, nullable);
        if (!v)
            return false;
        if (!v->is_number())
            fail(key, "expected a number, got " + v->dump());
        out = v->get<double>();
        return true;
    }

    void boolean(const char *key, bool &out) const
    {
        if (const nlohmann::json *v = value(key, false)) {
            if (!v->is_boolean())
                fail(key, "expected true or false, got " + v->dump());
            out = v->get<bool>();
        }
    }

    bool string(const char *key, std::string &out) const
    {
        const nlohmann::json *v = value(key, false);
        if (!v)
            return false;
        if (!v->is_string())
            fail(key, "expected a string, got " + v->dump());
        out = v->get<std::string>();
        return true;
    }

    void required(const char *key, std::string &out) const
    {
        if (!find(key))
            fail(key, "required");
        string(key, out);
        if (out.empty())
            fail(key, "must not be empty");
    }

    void oneOf(const char *key, std::string &out, const std::vector<std::string> &allowed) const
    {
        string(key, out);
        if (std::find(allowed.begin(), allowed.end(), out) == allowed.end())
            fail(key, "unknown value \"" + out + "\" (expected one of: " + joined(allowed) + ")");
    }

private:
    const nlohmann::json *value(const char *key, bool nullable) const
    {
        const nlohmann::json *v = find(key);
        if (v && v->is_null()) {
            if (!nullable)
                fail(key, "expected a value, got null");
            return nullptr;
        }
        return v;
    }

    const nlohmann::json &m_json;
    std::string m_prefix;
    const std::string &m_source;
};

} // namespace tl

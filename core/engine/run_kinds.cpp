#include "engine/run_kinds.h"

#include <iterator>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace tl {

const std::vector<RunKindInfo> &runKindTable()
{
    // name, label, in a spec, needs a source, prunes, baseline of
    static const std::vector<RunKindInfo> table = {
        {RunKind::Imp, "imp", "IMP", true, false, true, std::nullopt},
        {RunKind::Full, "full", "full model", true, false, false, RunKind::Imp},
        {RunKind::Random, "random", "random pruning", true, false, true, RunKind::Imp},
        {RunKind::Reinit, "reinit", "IMP mask + random init", true, true, false, RunKind::Imp},
        {RunKind::Shuffle, "shuffle", "IMP mask + shuffled weights", true, true, false, RunKind::Imp},
        {RunKind::Standard, "standard", "standard pruning", true, false, true, RunKind::Imp},
        {RunKind::Oneshot, "oneshot", "one-shot magnitude", true, false, true, RunKind::Imp},
        {RunKind::Transfer, "transfer", "transferred mask", true, true, false, std::nullopt},
        {RunKind::Import, "import", "imported mask", false, false, false, std::nullopt},
    };
    return table;
}

const RunKindInfo &runKindInfo(RunKind kind)
{
    return runKindTable().at(static_cast<size_t>(kind));
}

std::string runKindName(RunKind kind)
{
    return runKindInfo(kind).name;
}

std::string runKindLabel(RunKind kind)
{
    return runKindInfo(kind).label;
}

std::optional<RunKind> findRunKind(const std::string &name)
{
    for (const RunKindInfo &k : runKindTable())
        if (name == k.name)
            return k.kind;
    return std::nullopt;
}

std::vector<std::string> runKindNames(bool specOnly)
{
    std::vector<std::string> out;
    for (const RunKindInfo &k : runKindTable())
        if (k.inSpec || !specOnly)
            out.emplace_back(k.name);
    return out;
}

RunKind runKindFromName(const std::string &name, const std::string &what)
{
    if (auto kind = findRunKind(name))
        return *kind;
    std::string known;
    for (const std::string &n : runKindNames())
        known += (known.empty() ? "" : ", ") + n;
    throw Error(what + ": unknown run kind '" + name + "' (" + known + ")");
}

bool fullModelFirst(RunKind a, RunKind b)
{
    return std::make_pair(a != RunKind::Full, a) < std::make_pair(b != RunKind::Full, b);
}

std::vector<RunKind> baselinesOf(RunKind kind)
{
    std::vector<RunKind> out;
    for (const RunKindInfo &k : runKindTable())
        if (k.baselineOf == kind)
            out.push_back(k.kind);
    return out;
}

namespace {

constexpr const char *kEventNames[] = {"run_start", "round_start", "progress", "tick", "round_done", "run_done"};

} // namespace

std::string runEventTypeName(RunEventType type)
{
    return kEventNames[static_cast<size_t>(type)];
}

std::optional<RunEventType> findRunEventType(const std::string &name)
{
    for (size_t i = 0; i < std::size(kEventNames); ++i)
        if (name == kEventNames[i])
            return static_cast<RunEventType>(i);
    return std::nullopt;
}

void to_json(nlohmann::json &j, RunKind kind)
{
    j = runKindName(kind);
}

void from_json(const nlohmann::json &j, RunKind &kind)
{
    if (!j.is_string())
        throw Error("run kind: expected a name (" + runKindNames().front() + ", ...), got " + j.dump());
    kind = runKindFromName(j.get<std::string>());
}

} // namespace tl

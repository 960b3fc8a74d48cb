#include "engine/progress_protocol.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <type_traits>

namespace tl {

using nlohmann::json;

json runEventToJson(const RunEvent &e)
{
    json j = {{"event", runEventTypeName(e.type)},
              {"run", e.runId},
              {"seed", e.seed},
              {"round", e.round},
              {"rounds", e.rounds},
              {"sparsity", e.sparsity}};
    if (e.type == RunEventType::Progress) {
        j["step"] = e.step;
        j["total_steps"] = e.totalSteps;
        j["loss"] = e.loss;
        j["lr"] = e.lr;
        j["tokens_per_s"] = e.tokensPerSecond;
        j["eta_s"] = e.etaSeconds;
    }
    if (e.type == RunEventType::RoundDone)
        j["metrics"] = e.metrics;
    if (e.type == RunEventType::RunStart) {
        j["resumed"] = e.resumed;
        j["reused"] = e.reused;
    }
    return j;
}

json runsDoneToJson(const RunOutcome &outcome)
{
    return {
        {"event", "done"}, {"runs", outcome.runIds}, {"actions", outcome.actions}, {"cancelled", outcome.cancelled}};
}

namespace {

/// The value of j[key] as T, or fallback when absent or not a T. Integers are read only from
/// JSON integers within T's range: nlohmann's get<int>() of 2e37 is a float-to-int cast out of
/// range, undefined behaviour (found by fuzz_progress).
template <typename T> T field(const json &j, const char *key, T fallback)
{
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        if (!it->is_number_integer())
            return fallback;
        if (it->is_number_unsigned()) {
            const uint64_t v = it->get<uint64_t>();
            return v <= uint64_t(std::numeric_limits<T>::max()) ? T(v) : fallback;
        }
        const int64_t v = it->get<int64_t>();
        if constexpr (std::is_signed_v<T>)
            return v >= int64_t(std::numeric_limits<T>::min()) && v <= int64_t(std::numeric_limits<T>::max())
                       ? T(v)
                       : fallback;
        else
            return v >= 0 && uint64_t(v) <= uint64_t(std::numeric_limits<T>::max()) ? T(v) : fallback;
    }
    try {
        return it->get<T>();
    } catch (const json::exception &) {
        return fallback;
    }
}

} // namespace

std::optional<ProgressLine> parseProgressLine(const std::string &line)
{
    json j;
    try {
        j = json::parse(line);
    } catch (const json::exception &) {
        return std::nullopt;
    }
    if (!j.is_object())
        return std::nullopt;
    const std::string name = field<std::string>(j, "event", "");
    ProgressLine out;
    if (name == "done") {
        out.done = true;
        out.outcome.cancelled = field<bool>(j, "cancelled", false);
        if (auto it = j.find("runs"); it != j.end() && it->is_array())
            for (const json &id : *it)
                if (id.is_number_integer())
                    out.outcome.runIds.push_back(id.get<int64_t>());
        if (auto it = j.find("actions"); it != j.end() && it->is_array())
            for (const json &a : *it)
                if (a.is_string())
                    out.outcome.actions.push_back(a.get<std::string>());
        return out;
    }
    const auto type = findRunEventType(name);
    if (!type || *type == RunEventType::Tick)
        return std::nullopt;
    RunEvent &e = out.event;
    e.type = *type;
    e.runId = field<int64_t>(j, "run", 0);
    e.seed = field<uint64_t>(j, "seed", 0);
    e.round = field<int>(j, "round", 0);
    e.rounds = field<int>(j, "rounds", 0);
    e.sparsity = field<double>(j, "sparsity", 0);
    e.step = field<int64_t>(j, "step", 0);
    e.totalSteps = field<int64_t>(j, "total_steps", 0);
    e.loss = field<double>(j, "loss", 0);
    e.lr = field<double>(j, "lr", 0);
    e.tokensPerSecond = field<double>(j, "tokens_per_s", 0);
    e.etaSeconds = field<double>(j, "eta_s", 0);
    e.resumed = field<bool>(j, "resumed", false);
    e.reused = field<bool>(j, "reused", false);
    if (auto it = j.find("metrics"); it != j.end() && it->is_object())
        for (const auto &[k, v] : it->items())
            if (v.is_number())
                e.metrics[k] = v.get<double>();
    return out;
}

double runFractionDone(const RunEvent &e)
{
    if (e.type == RunEventType::RunDone)
        return 1.0;
    const int rounds = std::max(e.rounds, 0) + 1;
    double within = 0;
    if (e.type == RunEventType::RoundDone)
        within = 1;
    else if (e.type == RunEventType::Progress && e.totalSteps > 0)
        within = std::clamp(double(e.step) / double(e.totalSteps), 0.0, 1.0);
    return std::clamp((std::clamp(e.round, 0, rounds - 1) + within) / rounds, 0.0, 1.0);
}

std::string formatDuration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return "?";
    const long t = std::lround(seconds);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

} // namespace tl

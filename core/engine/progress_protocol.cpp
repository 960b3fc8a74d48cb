#include "engine/progress_protocol.h"

#include <algorithm>

namespace tl {

using nlohmann::json;

json runEventToJson(const RunEvent &e)
{
    json j = {{"event", e.type},  {"run", e.runId},     {"seed", e.seed},
              {"round", e.round}, {"rounds", e.rounds}, {"sparsity", e.sparsity}};
    if (e.type == "progress") {
        j["step"] = e.step;
        j["total_steps"] = e.totalSteps;
        j["loss"] = e.loss;
        j["lr"] = e.lr;
        j["tokens_per_s"] = e.tokensPerSecond;
        j["eta_s"] = e.etaSeconds;
    }
    if (e.type == "round_done")
        j["metrics"] = e.metrics;
    if (e.type == "run_start") {
        j["resumed"] = e.resumed;
        j["reused"] = e.reused;
    }
    return j;
}

json runsDoneToJson(const std::vector<int64_t> &runIds, bool cancelled)
{
    return {{"event", "done"}, {"runs", runIds}, {"cancelled", cancelled}};
}

namespace {

template <typename T> T field(const json &j, const char *key, T fallback)
{
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
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
    const std::string type = field<std::string>(j, "event", "");
    ProgressLine out;
    if (type == "done") {
        out.done = true;
        out.cancelled = field<bool>(j, "cancelled", false);
        if (auto it = j.find("runs"); it != j.end() && it->is_array())
            for (const json &id : *it)
                if (id.is_number_integer())
                    out.runIds.push_back(id.get<int64_t>());
        return out;
    }
    static const char *const kEvents[] = {"run_start", "round_start", "progress", "round_done", "run_done"};
    if (std::none_of(std::begin(kEvents), std::end(kEvents), [&](const char *k) { return type == k; }))
        return std::nullopt;
    RunEvent &e = out.event;
    e.type = type;
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
    if (e.type == "run_done")
        return 1.0;
    const int rounds = std::max(e.rounds, 0) + 1;
    double within = 0;
    if (e.type == "round_done")
        within = 1;
    else if (e.type == "progress" && e.totalSteps > 0)
        within = std::clamp(double(e.step) / double(e.totalSteps), 0.0, 1.0);
    return std::clamp((std::clamp(e.round, 0, rounds - 1) + within) / rounds, 0.0, 1.0);
}

} // namespace tl

#include "engine/run_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <regex>
#include <set>

#include "analysis/tickets.h"
#include "text/tasks.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/hash.h"
#include "util/json_fields.h"

namespace tl {
namespace {

using nlohmann::json;

// Sparsities are rounded to 12 decimals so that 3 * 0.1 is stored, printed and compared as
// 0.3, not 0.30000000000000004; no schedule needs finer resolution than that.
double tidy(double s)
{
    return std::round(s * 1e12) / 1e12;
}

constexpr double kEps = 1e-12;

// Sparsity after `round` of the unbounded schedule (rounds count from 1).
double scheduleAt(const PruneSpec &p, int round)
{
    return tidy(p.schedule == "geometric" ? 1.0 - std::pow(1.0 - p.step, round) : std::min(round * p.step, 1.0));
}

PruneSpec parsePrune(const json &j, const std::string &source)
{
    const JsonFields f(j, "prune", source,
                       {"method", "schedule", "step", "rounds", "target_sparsity", "include_pooler",
                        "include_embeddings", "importance_split", "importance_examples"});
    PruneSpec p;
    f.oneOf("method", p.method,
            {"global_magnitude", "tensor_magnitude", "global_random", "tensor_random", "heads", "heads_and_neurons"});
    if (p.structured()) {
        f.oneOf("importance_split", p.importanceSplit, {"train", "dev"});
        f.integer("importance_examples", p.importanceExamples, 1, 100000000);
    } else {
        for (const char *key : {"importance_split", "importance_examples"})
            if (f.find(key))
                f.fail(key, "only the structured methods heads and heads_and_neurons score importance (method is \"" +
                                p.method + "\")");
    }
    f.oneOf("schedule", p.schedule, {"linear", "geometric"});
    f.number("step", p.step);
    if (!(p.step > 0 && p.step < 1))
        f.fail("step", "must lie in (0, 1), got " + json(p.step).dump());
    const bool hasRounds = f.integer("rounds", p.rounds, 1, PruneSpec::kMaxRounds, true);
    if (f.number("target_sparsity", p.targetSparsity, true)) {
        if (hasRounds)
            f.fail("target_sparsity", "give either rounds or target_sparsity, not both");
        if (!(p.targetSparsity > 0 && p.targetSparsity < 1))
            f.fail("target_sparsity", "must lie in (0, 1), got " + json(p.targetSparsity).dump());
    }
    f.boolean("include_pooler", p.includePooler);
    f.boolean("include_embeddings", p.includeEmbeddings);

    // The schedule as a whole: the field at fault is whichever bounds the number of rounds.
    const char *bound = hasRounds ? "rounds" : p.targetSparsity > 0 ? "target_sparsity" : "step";
    std::vector<double> s;
    try {
        if (!hasRounds && p.targetSparsity == 0)
            p.rounds = p.defaultRounds();
        s = p.sparsities();
    } catch (const Error &e) {
        f.fail(bound, e.what());
    }
    for (size_t r = 1; r < s.size(); ++r)
        if (s[r] <= s[r - 1])
            f.fail(bound, "the " + p.schedule + " schedule stops growing after round " + std::to_string(r) +
                              " (sparsity " + json(s[r - 1]).dump() + "); use at most " + std::to_string(r) +
                              " rounds");
    return p;
}

RewindSpec parseRewind(const JsonFields &top, const json &v, const std::string &source)
{
    RewindSpec r;
    if (v.is_string()) {
        if (v.get<std::string>() != "pretrained")
            top.fail("rewind", "expected \"pretrained\" or {\"step\": k}, got " + v.dump());
        return r;
    }
    if (!v.is_object())
        top.fail("rewind", "expected \"pretrained\" or {\"step\": k}, got " + v.dump());
    const JsonFields f(v, "rewind", source, {"step"});
    if (!f.find("step"))
        f.fail("step", "required");
    r.pretrained = false;
    f.integer("step", r.step, 0, std::numeric_limits<int64_t>::max());
    return r;
}

TrainSpec parseTrain(const json &v, const std::string &source)
{
    const JsonFields f(
        v, "train", source,
        {"epochs", "max_steps", "lr", "batch_size", "max_seq_len", "warmup", "weight_decay", "eval_batch_size"});
    constexpr int kIntMax = std::numeric_limits<int>::max();
    TrainSpec t;
    f.integer("epochs", t.epochs, 1, kIntMax);
    f.integer("max_steps", t.maxSteps, 1, std::numeric_limits<int64_t>::max(), true);
    f.number("lr", t.lr);
    if (!(t.lr > 0) || !std::isfinite(t.lr))
        f.fail("lr", "must be positive, got " + json(t.lr).dump());
    f.integer("batch_size", t.batchSize, 1, kIntMax);
    f.integer("max_seq_len", t.maxSeqLen, 3, kIntMax); // [CLS] token [SEP]
    f.integer("eval_batch_size", t.evalBatchSize, 1, kIntMax);
    f.number("warmup", t.warmup);
    if (!(t.warmup >= 0 && t.warmup < 1))
        f.fail("warmup", "must lie in [0, 1) (a fraction of the steps), got " + json(t.warmup).dump());
    f.number("weight_decay", t.weightDecay);
    if (!(t.weightDecay >= 0) || !std::isfinite(t.weightDecay))
        f.fail("weight_decay", "must be non-negative, got " + json(t.weightDecay).dump());
    return t;
}

EarlyBirdSpec parseEarlyBird(const json &v, const std::string &source)
{
    const JsonFields f(v, "early_bird", source, {"every", "epsilon", "window", "stop"});
    EarlyBirdSpec e;
    f.integer("every", e.every, 0, std::numeric_limits<int64_t>::max());
    f.number("epsilon", e.epsilon);
    if (!(e.epsilon > 0 && e.epsilon <= 1))
        f.fail("epsilon", "must lie in (0, 1] (a fraction of the prunable weights), got " + json(e.epsilon).dump());
    f.integer("window", e.window, 1, 1000);
    f.boolean("stop", e.stop);
    return e;
}

SourceSpec parseSource(const json &v, const std::string &source, RunKind runKind)
{
    const JsonFields f(v, "source", source, {"run", "round", "mask_file", "spec", "seed"});
    SourceSpec s;
    const bool transfer = runKind == RunKind::Transfer;
    const std::string kind = runKindName(runKind);
    if (f.find("mask_file")) {
        if (!transfer)
            f.fail("mask_file", "kind \"" + kind + "\" needs the masks of a stored IMP run: {\"run\": id}");
        if (f.find("run") || f.find("round") || f.find("spec"))
            f.fail("mask_file", "give either mask_file or run and round, not both");
        f.required("mask_file", s.maskFile);
        return s;
    }
    // reinit / shuffle train the masks of every round of a stored IMP run: a round means nothing.
    if (!transfer && f.find("round"))
        f.fail("round", "kind \"" + kind +
                            "\" trains every round of its source run (rounds 0, 1, ... with "
                            "their masks); give only {\"run\": id}");
    if (f.find("spec")) {
        if (f.find("run"))
            f.fail("spec", "give either spec and seed or run, not both");
        f.required("spec", s.specHash);
        static const std::regex kHash("[0-9a-f]{16}");
        if (!std::regex_match(s.specHash, kHash))
            f.fail("spec", "expected a spec hash (16 lowercase hex digits), got \"" + s.specHash + "\"");
        if (!f.find("seed"))
            f.fail("seed", "required with spec");
        f.integer("seed", s.seed, 0, std::numeric_limits<int64_t>::max());
    } else {
        if (f.find("seed"))
            f.fail("seed", "only with spec");
        if (!f.find("run"))
            f.fail("run", transfer ? "required (or give mask_file)" : "required");
        f.integer("run", s.run, 1, std::numeric_limits<int64_t>::max());
    }
    if (transfer) {
        if (!f.find("round"))
            f.fail("round", "required");
        f.integer("round", s.round, 0, PruneSpec::kMaxRounds);
    }
    return s;
}

} // namespace

int64_t EarlyBirdSpec::interval(int64_t totalSteps) const
{
    if (every > 0)
        return every;
    return std::max<int64_t>(1, (totalSteps + 9) / 10);
}

bool EarlyBirdSpec::settled(const std::vector<double> &distances) const
{
    if (!stop || window < 1 || distances.size() < static_cast<size_t>(window))
        return false;
    return std::all_of(distances.end() - window, distances.end(), [this](double d) { return d < epsilon; });
}

int PruneSpec::defaultRounds() const
{
    if (!(step > 0 && step < 1))
        throw Error("step must lie in (0, 1)");
    for (int r = 1; r <= kMaxRounds; ++r)
        if (scheduleAt(*this, r) >= 0.9 - kEps)
            return r;
    throw Error("a step of " + json(step).dump() + " needs more than " + std::to_string(kMaxRounds) +
                " rounds to reach 90% sparsity; give rounds or target_sparsity");
}

std::vector<double> PruneSpec::sparsities() const
{
    if (!(step > 0 && step < 1))
        throw Error("step must lie in (0, 1)");
    std::vector<double> out;
    if (targetSparsity > 0) {
        for (int r = 1; r <= kMaxRounds; ++r) {
            const double s = scheduleAt(*this, r);
            if (s >= targetSparsity - kEps) {
                out.push_back(targetSparsity);
                return out;
            }
            out.push_back(s);
        }
        throw Error("reaching " + json(targetSparsity).dump() + " takes more than " + std::to_string(kMaxRounds) +
                    " rounds");
    }
    const int n = rounds > 0 ? rounds : defaultRounds();
    if (n > kMaxRounds)
        throw Error("at most " + std::to_string(kMaxRounds) + " rounds");
    for (int r = 1; r <= n; ++r)
        out.push_back(scheduleAt(*this, r));
    return out;
}

std::string canonicalRunTask(const std::string &name)
{
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == kMlmTask)
        return kMlmTask;
    try {
        return taskByName(name).name;
    } catch (const Error &e) {
        throw Error(std::string(e.what()) + ", " + kMlmTask);
    }
}

RunSpec RunSpec::fromJson(const json &j, const std::string &source)
{
    const JsonFields f(j, "", source,
                       {"model", "task", "data_dir", "kind", "prune", "rewind", "head", "train", "seeds", "threads",
                        "device", "criterion", "source", "repeat", "at", "early_bird"});
    RunSpec s;
    f.required("model", s.model);
    f.required("task", s.task);
    try {
        s.task = canonicalRunTask(s.task);
    } catch (const Error &e) {
        f.fail("task", e.what());
    }
    f.required("data_dir", s.dataDir);
    std::string kind = runKindName(s.kind);
    f.oneOf("kind", kind, runKindNames(true));
    s.kind = *findRunKind(kind);

    // Kind "full" ignores the prune section, but a present one is still checked: a typo there
    // usually means the user meant another kind.
    if (const json *v = f.find("prune")) {
        if (!(v->is_null() && s.kind == RunKind::Full))
            s.prune = parsePrune(*v, source);
    } else if (s.kind != RunKind::Full) {
        s.prune = parsePrune(json::object(), source);
    }
    if (s.kind == RunKind::Full)
        s.prune = PruneSpec{};

    if (const json *v = f.find("rewind"))
        s.rewind = parseRewind(f, *v, source);
    f.oneOf("head", s.head, {"keep", "reinit"});
    if (const json *v = f.find("train"))
        s.train = parseTrain(*v, source);

    if (const json *v = f.find("seeds")) {
        if (!v->is_array())
            f.fail("seeds", "expected an array of non-negative integers, got " + v->dump());
        if (v->empty())
            f.fail("seeds", "must not be empty");
        s.seeds.clear();
        std::set<uint64_t> seen;
        for (size_t i = 0; i < v->size(); ++i) {
            const json &e = (*v)[i];
            const std::string path = "seeds[" + std::to_string(i) + "]";
            // Built in code, 3 is a signed integer; parsed from text it is unsigned.
            if (!e.is_number_integer() || (!e.is_number_unsigned() && e.get<int64_t>() < 0))
                f.failPath(path, "expected a non-negative integer, got " + e.dump());
            const uint64_t seed = e.get<uint64_t>();
            if (!seen.insert(seed).second)
                f.failPath(path, "duplicate seed " + e.dump());
            s.seeds.push_back(seed);
        }
    }
    f.integer("threads", s.threads, 0, std::numeric_limits<int>::max());
    f.string("device", s.device);
    static const std::regex kDevice("cpu|cuda(:[0-9]{1,4})?");
    if (!std::regex_match(s.device, kDevice))
        f.fail("device", "expected \"cpu\", \"cuda\" or \"cuda:N\", got \"" + s.device + "\"");
    f.oneOf("criterion", s.criterion, ticketCriteria());

    // reinit and shuffle train the masks of an IMP run, found by its id.
    const bool usesMasks = runKindInfo(s.kind).needsSource;
    if (const json *v = f.find("source"); v && !v->is_null()) {
        if (!usesMasks) {
            std::string takers;
            for (const RunKindInfo &k : runKindTable())
                if (k.needsSource)
                    takers += (takers.empty() ? "\"" : ", \"") + std::string(k.name) + "\"";
            f.fail("source", "only kinds " + takers + " take a source (kind is \"" + kind + "\")");
        }
        s.source = parseSource(*v, source, s.kind);
    } else if (usesMasks) {
        f.fail("source",
               "required for kind \"" + kind + "\": " +
                   std::string(s.kind == RunKind::Transfer ? "{\"run\": id, \"round\": k} or {\"mask_file\": path}"
                                                           : "{\"run\": id} (an imp run)"));
    }
    // Structured methods prune by the importance of the trained network of each round (imp) or
    // at random at the same counts (random); reinit, shuffle and transfer follow stored masks.
    // oneshot and standard prune the weights of other networks by magnitude: not by heads.
    if (s.prune.structured() && (s.kind == RunKind::Oneshot || s.kind == RunKind::Standard))
        f.failPath("prune.method", "\"" + s.prune.method +
                                       "\" prunes heads of the trained network of each round: kinds \"imp\" and "
                                       "\"random\" (and the kinds that follow their masks), not \"" +
                                       kind + "\"");
    if (s.prune.structured() && s.task == kMlmTask)
        f.failPath("prune.method", "\"" + s.prune.method +
                                       "\" scores heads with a classification or regression loss; "
                                       "task mlm has none");
    f.integer("repeat", s.repeat, 0, kMaxRepeat);
    if (const json *v = f.find("at"); v && !v->is_null()) {
        // The baselines of IMP that prune or follow IMP's rounds; the full model has one round.
        std::vector<std::string> atKinds;
        for (RunKind k : baselinesOf(RunKind::Imp))
            if (k != RunKind::Full)
                atKinds.push_back(runKindName(k));
        if (std::find(atKinds.begin(), atKinds.end(), kind) == atKinds.end())
            f.fail("at", "only the baselines " + joined(atKinds) + " take \"at\" (kind is \"" + kind + "\")");
        if (!v->is_array() || v->empty())
            f.fail("at", "expected a non-empty array of sparsities in (0, 1), got " + v->dump());
        for (size_t i = 0; i < v->size(); ++i) {
            const json &e = (*v)[i];
            if (!e.is_number() || !(e.get<double>() > 0 && e.get<double>() < 1))
                f.failPath("at[" + std::to_string(i) + "]", "expected a sparsity in (0, 1), got " + e.dump());
            s.at.push_back(e.get<double>());
        }
        std::sort(s.at.begin(), s.at.end());
        if (std::adjacent_find(s.at.begin(), s.at.end()) != s.at.end())
            f.fail("at", "lists a sparsity twice");
    }
    if (const json *v = f.find("early_bird"); v && !v->is_null()) {
        // The draw is "the mask the next prune would make from the weights being trained":
        // only IMP prunes from the weights it trains.
        if (s.kind != RunKind::Imp)
            f.fail("early_bird", "only kind \"imp\" takes early_bird (kind is \"" + kind + "\")");
        if (s.prune.structured())
            f.fail("early_bird", "draws magnitude masks; method \"" + s.prune.method + "\" prunes whole heads");
        s.earlyBird = parseEarlyBird(*v, source);
    }
    return s;
}

RunSpec RunSpec::load(const std::string &path)
{
    RunSpec s = fromJson(readJsonFile(path), path);
    resolveBeside(path, s.model);
    resolveBeside(path, s.dataDir);
    if (s.source)
        resolveBeside(path, s.source->maskFile);
    return s;
}

json RunSpec::toJson() const
{
    json j;
    j["model"] = model;
    j["task"] = task;
    j["data_dir"] = dataDir;
    j["kind"] = runKindName(kind);
    if (kind == RunKind::Full) {
        j["prune"] = nullptr;
    } else {
        const bool byTarget = prune.targetSparsity > 0;
        j["prune"] = {
            {"method", prune.method},
            {"schedule", prune.schedule},
            {"step", prune.step},
            {"rounds", byTarget ? json(nullptr) : json(prune.rounds > 0 ? prune.rounds : prune.defaultRounds())},
            {"target_sparsity", byTarget ? json(prune.targetSparsity) : json(nullptr)},
            {"include_pooler", prune.includePooler},
            {"include_embeddings", prune.includeEmbeddings}};
        if (prune.structured()) { // only then: the hashes of magnitude specs stay as they were
            j["prune"]["importance_split"] = prune.importanceSplit;
            j["prune"]["importance_examples"] = prune.importanceExamples;
        }
    }
    j["rewind"] = rewind.pretrained ? json("pretrained") : json{{"step", rewind.step}};
    j["head"] = head;
    j["train"] = {{"epochs", train.epochs},
                  {"max_steps", train.maxSteps > 0 ? json(train.maxSteps) : json(nullptr)},
                  {"lr", train.lr},
                  {"batch_size", train.batchSize},
                  {"max_seq_len", train.maxSeqLen},
                  {"warmup", train.warmup},
                  {"weight_decay", train.weightDecay},
                  {"eval_batch_size", train.evalBatchSize}};
    j["seeds"] = seeds;
    j["threads"] = threads;
    j["device"] = device;
    j["criterion"] = criterion;
    if (!source)
        j["source"] = nullptr;
    else if (source->fromFile())
        j["source"] = {{"mask_file", source->maskFile}};
    else if (source->bySpec() && kind != RunKind::Transfer)
        j["source"] = {{"spec", source->specHash}, {"seed", source->seed}};
    else if (source->bySpec())
        j["source"] = {{"spec", source->specHash}, {"seed", source->seed}, {"round", source->round}};
    else if (kind != RunKind::Transfer)
        j["source"] = {{"run", source->run}};
    else
        j["source"] = {{"run", source->run}, {"round", source->round}};
    // Only when set: the canonical form (and so the hash) of every spec without it is what it
    // was before repetitions existed, so their stored runs are still found.
    if (repeat > 0)
        j["repeat"] = repeat;
    if (!at.empty()) // only when set, like repeat: older specs keep their hash
        j["at"] = at;
    if (earlyBird)
        j["early_bird"] = {{"every", earlyBird->every},
                           {"epsilon", earlyBird->epsilon},
                           {"window", earlyBird->window},
                           {"stop", earlyBird->stop}};
    return j;
}

RunSpec transferSpec(const RunSpec &source, int64_t sourceRun, int round, const std::string &task,
                     const std::string &dataDir, const std::string &model)
{
    namespace fs = std::filesystem;
    auto absolute = [](const std::string &p) { return p.empty() ? p : fs::absolute(p).lexically_normal().string(); };
    json j = source.toJson();
    j["kind"] = runKindName(RunKind::Transfer);
    j["task"] = task;
    j["data_dir"] = absolute(dataDir);
    if (!model.empty())
        j["model"] = absolute(model);
    j["source"] = {{"run", sourceRun}, {"round", round}};
    j.erase("prune");      // a transfer prunes nothing itself
    j.erase("repeat");     // a repetition of the source is not one of the transfer
    j.erase("early_bird"); // the transfer trains one given mask: nothing to draw
    return RunSpec::fromJson(j, "transfer of run " + std::to_string(sourceRun) + " round " + std::to_string(round));
}

std::string fnv1aHex(const std::string &bytes)
{
    Fnv1a h;
    h.update(bytes.data(), bytes.size());
    return h.hex();
}

std::string RunSpec::hash() const
{
    json j = toJson();
    j.erase("seeds");
    return fnv1aHex(j.dump()); // nlohmann's objects keep keys sorted, so dump() is canonical
}

} // namespace tl

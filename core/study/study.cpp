#include "study/study.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "store/experiment_store.h"
#include "text/tasks.h"
#include "train/metrics.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/json_fields.h"

namespace tl {
namespace {

using nlohmann::json;

/// canonicalRunTask(); throws naming the field.
std::string canonicalTask(const std::string &name, const JsonFields &f, const std::string &path)
{
    try {
        return canonicalRunTask(name);
    } catch (const Error &e) {
        f.failPath(path, e.what());
    }
}

/// canonicalTask(), and the task must be one of the study's (known).
std::string studyTask(const std::string &name, const JsonFields &f, const std::string &path,
                      const std::vector<std::string> &known)
{
    const std::string t = canonicalTask(name, f, path);
    if (std::find(known.begin(), known.end(), t) == known.end())
        f.failPath(path, "task \"" + t + "\" is not in the study's tasks (" + joined(known) + ")");
    return t;
}

std::vector<std::string> taskList(const json &v, const JsonFields &f, const std::string &field,
                                  const std::vector<std::string> &known)
{
    if (!v.is_array() || v.empty())
        f.failPath(field, "expected a non-empty array of task names, got " + v.dump());
    std::vector<std::string> out;
    for (size_t i = 0; i < v.size(); ++i) {
        const std::string path = field + "[" + std::to_string(i) + "]";
        if (!v[i].is_string())
            f.failPath(path, "expected a task name, got " + v[i].dump());
        const std::string t = studyTask(v[i].get<std::string>(), f, path, known);
        if (std::find(out.begin(), out.end(), t) == out.end())
            out.push_back(t);
    }
    return out;
}

constexpr const char *kSharedFields[] = {"prune", "rewind", "head", "train", "threads", "device", "criterion"};

} // namespace

std::vector<std::string> StudySpec::baselineKinds()
{
    std::vector<std::string> names;
    for (RunKind k : baselinesOf(RunKind::Imp))
        names.push_back(runKindName(k));
    return names;
}

std::string StudySpec::metricFor(const std::string &task) const
{
    auto it = metric.find(task);
    return it == metric.end() ? std::string(kMainMetric) : it->second;
}

StudySpec StudySpec::fromJson(const json &j, const std::string &source)
{
    const JsonFields f(j, "", source,
                       {"name", "model", "tasks", "seeds", "prune", "rewind", "head", "train", "train_per_task",
                        "threads", "device", "baselines", "transfer", "criterion", "metric", "at", "reference"});
    StudySpec s;
    s.path = source;
    f.required("name", s.name);
    f.required("model", s.model);

    const json *tasks = f.find("tasks");
    if (!tasks)
        f.fail("tasks", "required: an object {\"TASK\": \"data folder\", ...}");
    if (!tasks->is_object() || tasks->empty())
        f.fail("tasks", "expected a non-empty object {\"TASK\": \"data folder\", ...}, got " + tasks->dump());
    std::vector<std::string> names;
    for (const auto &[name, dir] : tasks->items()) {
        const std::string path = "tasks." + name;
        const std::string task = canonicalTask(name, f, path);
        if (!dir.is_string() || dir.get<std::string>().empty())
            f.failPath(path, "expected the task's data folder, got " + dir.dump());
        if (std::find(names.begin(), names.end(), task) != names.end())
            f.failPath(path, "task \"" + task + "\" is listed twice");
        names.push_back(task);
        s.tasks.emplace_back(task, dir.get<std::string>());
    }

    // The shared run-spec fields are checked by the run spec's own parser, under their own names.
    json shared = json::object();
    for (const char *key : kSharedFields)
        if (const json *v = f.find(key))
            shared[key] = *v;
    if (const json *v = f.find("seeds"))
        shared["seeds"] = *v;
    json probe = shared;
    probe["model"] = s.model;
    probe["task"] = s.tasks.front().first;
    probe["data_dir"] = s.tasks.front().second;
    const RunSpec parsed = RunSpec::fromJson(probe, source);
    s.seeds = parsed.seeds;
    s.criterion = parsed.criterion;
    shared.erase("seeds");
    s.shared = shared;

    if (const json *v = f.find("at"); v && !v->is_null()) {
        json check = probe;
        check["kind"] = "random";
        check["at"] = *v;
        s.at = RunSpec::fromJson(check, source).at; // checked (and named) as the run-spec field
    }

    if (const json *v = f.find("train_per_task")) {
        if (!v->is_object())
            f.fail("train_per_task", "expected an object {\"TASK\": {train fields}}, got " + v->dump());
        for (const auto &[name, train] : v->items()) {
            const std::string path = "train_per_task." + name;
            const std::string task = studyTask(name, f, path, names);
            if (!train.is_object())
                f.failPath(path, "expected an object of train fields, got " + train.dump());
            json merged = shared.value("train", json::object());
            merged.update(train);
            json check = probe;
            check["train"] = merged;
            RunSpec::fromJson(check, source + ": " + path); // names the field within train
            s.trainPerTask[task] = merged;
        }
    }

    if (const json *v = f.find("baselines")) {
        if (!v->is_array())
            f.fail("baselines", "expected an array of kinds (" + joined(baselineKinds()) + "), got " + v->dump());
        s.baselines.clear();
        for (size_t i = 0; i < v->size(); ++i) {
            const json &e = (*v)[i];
            const std::string path = "baselines[" + std::to_string(i) + "]";
            const std::optional<RunKind> kind = e.is_string() ? findRunKind(e.get<std::string>()) : std::nullopt;
            if (!kind || runKindInfo(*kind).baselineOf != RunKind::Imp)
                f.failPath(path, "expected one of " + joined(baselineKinds()) + ", got " + e.dump());
            if (std::find(s.baselines.begin(), s.baselines.end(), *kind) != s.baselines.end())
                f.failPath(path, "listed twice: " + e.dump());
            s.baselines.push_back(*kind);
        }
    }

    if (const json *v = f.find("transfer"); v && !v->is_null()) {
        const JsonFields t(*v, "transfer", source, {"sparsity", "round", "from", "to"});
        StudyTransfer tr;
        double sparsity = 0;
        int round = 0;
        const bool bySparsity = t.number("sparsity", sparsity);
        const bool byRound = t.integer("round", round, 0, PruneSpec::kMaxRounds);
        if (bySparsity == byRound)
            t.fail(bySparsity ? "round" : "sparsity", "give exactly one of sparsity and round");
        if (bySparsity) {
            if (!(sparsity > 0 && sparsity < 1))
                t.fail("sparsity", "must lie in (0, 1), got " + json(sparsity).dump());
            tr.sparsity = sparsity;
        } else {
            if (round > parsed.prune.numRounds())
                t.fail("round", "the IMP schedule has rounds 0.." + std::to_string(parsed.prune.numRounds()) +
                                    ", got " + std::to_string(round));
            tr.round = round;
        }
        tr.from = t.find("from") ? taskList(*t.find("from"), f, "transfer.from", names) : names;
        tr.to = t.find("to") ? taskList(*t.find("to"), f, "transfer.to", names) : names;
        s.transfer = tr;
    }

    if (const json *v = f.find("metric")) {
        if (!v->is_object())
            f.fail("metric", "expected an object {\"TASK\": \"metric\"}, got " + v->dump());
        for (const auto &[name, m] : v->items()) {
            const std::string path = "metric." + name;
            const std::string task = studyTask(name, f, path, names);
            if (!m.is_string() || m.get<std::string>().empty())
                f.failPath(path, "expected a metric name, got " + m.dump());
            s.metric[task] = m.get<std::string>();
        }
    }

    if (const json *v = f.find("reference"); v && !v->is_null()) {
        const JsonFields r(*v, "reference", source, {"label", "tasks"});
        r.required("label", s.referenceLabel);
        const json *rows = r.find("tasks");
        if (!rows || !rows->is_object() || rows->empty())
            r.fail("tasks", "expected an object {\"TASK\": {\"sparsity\": s, \"imp\": value, ...}}, got " +
                                (rows ? rows->dump() : std::string("nothing")));
        std::vector<std::string> kinds = {runKindName(RunKind::Imp)};
        for (RunKind k : baselinesOf(RunKind::Imp))
            kinds.push_back(runKindName(k));
        for (const auto &[name, row] : rows->items()) {
            // Any task: a paper's whole table may be pasted into a study of fewer tasks.
            const std::string path = "reference.tasks." + name;
            const std::string task = canonicalTask(name, f, path);
            std::vector<std::string> metrics; // the task's metric names, where known before any run (GLUE)
            if (task != kMlmTask)
                metrics = taskMetricNames(taskByName(task));
            if (!row.is_object())
                f.failPath(path, "expected an object {\"sparsity\": s, \"imp\": value, ...}, got " + row.dump());
            StudyReference ref;
            bool hasSparsity = false;
            for (const auto &[key, value] : row.items()) {
                const std::string field = path + "." + key;
                if (key == "metric") {
                    if (!value.is_string() || value.get<std::string>().empty())
                        f.failPath(field, "expected a metric name, got " + value.dump());
                    ref.metric = value.get<std::string>();
                    if (!metrics.empty() && std::find(metrics.begin(), metrics.end(), ref.metric) == metrics.end())
                        f.failPath(field,
                                   "\"" + ref.metric + "\" is not a metric of " + task + " (" + joined(metrics) + ")");
                    continue;
                }
                const std::optional<RunKind> kind = findRunKind(key);
                if (key != "sparsity" && (!kind || std::find(kinds.begin(), kinds.end(), key) == kinds.end()))
                    f.failPath(field, "unknown field (known: sparsity, metric, " + joined(kinds) + ")");
                if (!value.is_number() || !std::isfinite(value.get<double>()))
                    f.failPath(field, "expected a number, got " + value.dump());
                if (key == "sparsity") {
                    ref.sparsity = value.get<double>();
                    hasSparsity = true;
                    if (!(ref.sparsity > 0 && ref.sparsity < 1))
                        f.failPath(field, "must lie in (0, 1), got " + value.dump());
                } else {
                    // Every GLUE metric lies in [-1, 1]: 66.0 is a percentage.
                    if (!metrics.empty() && std::abs(value.get<double>()) > 1)
                        f.failPath(field, "expected the metric's own scale, within [-1, 1] (0.66, not 66), got " +
                                              value.dump());
                    ref.values.emplace_back(*kind, value.get<double>());
                }
            }
            if (!hasSparsity)
                f.failPath(path + ".sparsity", "required: the reference's ticket sparsity");
            if (ref.values.empty())
                f.failPath(path, "give at least one value (" + joined(kinds) + ")");
            std::sort(ref.values.begin(), ref.values.end(),
                      [](const auto &x, const auto &y) { return fullModelFirst(x.first, y.first); });
            s.reference[task] = std::move(ref);
        }
    }
    return s;
}

StudySpec StudySpec::load(const std::string &path)
{
    StudySpec s = fromJson(readJsonFile(path), path);
    resolveBeside(path, s.model);
    for (auto &[task, dir] : s.tasks)
        resolveBeside(path, dir);
    return s;
}

StudySpec StudySpec::part(const std::vector<std::string> &onlyTasks, const std::vector<uint64_t> &onlySeeds) const
{
    const std::string source = path.empty() ? name : path;
    std::vector<std::string> known;
    for (const auto &t : tasks)
        known.push_back(t.first);
    std::vector<std::string> keep;
    for (const std::string &t : onlyTasks) {
        std::string c;
        try {
            c = canonicalRunTask(t);
        } catch (const Error &e) {
            throw Error(source + ": " + e.what());
        }
        if (std::find(known.begin(), known.end(), c) == known.end())
            throw Error(source + ": task \"" + t + "\" is not one of the study's tasks (" + joined(known) + ")");
        keep.push_back(c);
    }
    for (uint64_t seed : onlySeeds)
        if (std::find(seeds.begin(), seeds.end(), seed) == seeds.end()) {
            std::vector<std::string> have;
            for (uint64_t s : seeds)
                have.push_back(std::to_string(s));
            throw Error(source + ": seed " + std::to_string(seed) + " is not one of the study's seeds (" +
                        joined(have) + ")");
        }

    StudySpec s = *this;
    auto inPart = [&](const std::string &t) {
        return keep.empty() || std::find(keep.begin(), keep.end(), t) != keep.end();
    };
    auto eraseIf = [](auto &v, auto pred) { v.erase(std::remove_if(v.begin(), v.end(), pred), v.end()); };
    eraseIf(s.tasks,
            [&](const auto &t) { return !inPart(t.first); }); // the study's order, whatever the order asked for
    if (!onlySeeds.empty())
        eraseIf(s.seeds,
                [&](uint64_t seed) { return std::find(onlySeeds.begin(), onlySeeds.end(), seed) == onlySeeds.end(); });
    if (s.transfer) {
        eraseIf(s.transfer->from, [&](const std::string &t) { return !inPart(t); });
        eraseIf(s.transfer->to, [&](const std::string &t) { return !inPart(t); });
    }
    std::vector<std::string> taskNames, seedNames;
    for (const auto &t : s.tasks)
        taskNames.push_back(t.first);
    for (uint64_t seed : s.seeds)
        seedNames.push_back(std::to_string(seed));
    if (!onlyTasks.empty() || !onlySeeds.empty())
        s.partLabel = "tasks " + joined(taskNames) + "; seeds " + joined(seedNames);
    return s;
}

std::string planStatusName(PlanStatus status)
{
    switch (status) {
    case PlanStatus::Done:
        return "done";
    case PlanStatus::Partial:
        return "partial";
    case PlanStatus::Todo:
        break;
    }
    return "todo";
}

std::vector<PlannedRun> planStudy(const StudySpec &study, int threadsOverride)
{
    const std::string source = study.path.empty() ? study.name : study.path;
    auto specFor = [&](const std::string &task, const std::string &dir, RunKind kind, uint64_t seed, const json &src) {
        json j = study.shared;
        j["model"] = study.model;
        j["task"] = task;
        j["data_dir"] = dir;
        j["kind"] = runKindName(kind);
        j["seeds"] = {seed};
        if (auto it = study.trainPerTask.find(task); it != study.trainPerTask.end())
            j["train"] = it->second;
        if (threadsOverride > 0)
            j["threads"] = threadsOverride;
        if (kind == RunKind::Full)
            j.erase("prune");
        if (!src.is_null())
            j["source"] = src;
        if (!study.at.empty() && kind != RunKind::Imp && kind != RunKind::Full && kind != RunKind::Transfer)
            j["at"] = study.at;
        return RunSpec::fromJson(j, source);
    };
    auto key = [](const std::string &task, RunKind kind, uint64_t seed) {
        return task + "/" + runKindName(kind) + "/s" + std::to_string(seed);
    };
    std::map<std::string, std::string> dirOf(study.tasks.begin(), study.tasks.end());
    // IMP, then the baselines in table order: those that need no IMP run at level 0, those
    // that train an IMP run's masks (a source) at level 1.
    std::vector<RunKind> level0 = {RunKind::Imp}, level1;
    for (RunKind kind : baselinesOf(RunKind::Imp))
        if (std::find(study.baselines.begin(), study.baselines.end(), kind) != study.baselines.end())
            (runKindInfo(kind).needsSource ? level1 : level0).push_back(kind);

    std::vector<PlannedRun> plan;
    std::map<std::string, size_t> impIndex; // key -> index in plan
    for (const auto &[task, dir] : study.tasks) {
        for (uint64_t seed : study.seeds) {
            for (RunKind kind : level0) {
                PlannedRun r;
                r.key = key(task, kind, seed);
                r.kind = kind;
                r.task = task;
                r.seed = seed;
                r.spec = specFor(task, dir, kind, seed, nullptr);
                if (kind == RunKind::Imp)
                    impIndex[r.key] = plan.size();
                plan.push_back(std::move(r));
            }
        }
    }
    for (const auto &[task, dir] : study.tasks) {
        for (uint64_t seed : study.seeds) {
            // Copies: plan grows below.
            const std::string impKey = key(task, RunKind::Imp, seed), impHash = plan[impIndex.at(impKey)].spec.hash();
            for (RunKind kind : level1) {
                PlannedRun r;
                r.key = key(task, kind, seed);
                r.kind = kind;
                r.task = task;
                r.seed = seed;
                r.level = 1;
                r.dependsOn = {impKey};
                r.spec = specFor(task, dir, kind, seed, json{{"spec", impHash}, {"seed", seed}});
                plan.push_back(std::move(r));
            }
        }
    }
    if (study.transfer) {
        const StudyTransfer &t = *study.transfer;
        for (const std::string &from : t.from) {
            for (uint64_t seed : study.seeds) {
                const std::string impKey = key(from, RunKind::Imp, seed);
                const RunSpec impSpec = plan[impIndex.at(impKey)].spec; // a copy: plan grows below
                int round = t.round.value_or(0);
                if (t.sparsity) {
                    const std::vector<double> s = impSpec.prune.sparsities();
                    round = 1;
                    for (size_t i = 1; i < s.size(); ++i)
                        if (std::abs(s[i] - *t.sparsity) < std::abs(s[static_cast<size_t>(round) - 1] - *t.sparsity))
                            round = static_cast<int>(i) + 1;
                }
                for (const std::string &to : t.to) {
                    if (to == from)
                        continue;
                    PlannedRun r;
                    r.key = from + "->" + to + "/transfer/s" + std::to_string(seed);
                    r.kind = RunKind::Transfer;
                    r.task = to;
                    r.sourceTask = from;
                    r.seed = seed;
                    r.level = 1;
                    r.dependsOn = {impKey};
                    r.spec = specFor(to, dirOf.at(to), RunKind::Transfer, seed,
                                     json{{"spec", impSpec.hash()}, {"seed", seed}, {"round", round}});
                    plan.push_back(std::move(r));
                }
            }
        }
    }
    return plan;
}

std::vector<PlanStatus> planStatuses(const ExperimentStore &store, const std::vector<PlannedRun> &plan)
{
    // (spec hash, seed) -> best status among the database's runs of that identity.
    std::map<std::pair<std::string, uint64_t>, PlanStatus> found;
    for (const RunRecord &r : store.runs()) {
        PlanStatus &s = found.try_emplace({r.specHash, r.seed}, PlanStatus::Todo).first->second;
        const PlanStatus here = r.status == "done" ? PlanStatus::Done : PlanStatus::Partial;
        if (here == PlanStatus::Done || s == PlanStatus::Todo)
            s = here;
    }
    std::vector<PlanStatus> out;
    out.reserve(plan.size());
    for (const PlannedRun &r : plan) {
        auto it = found.find({r.spec.hash(), r.seed});
        out.push_back(it == found.end() ? PlanStatus::Todo : it->second);
    }
    return out;
}

std::string keyFileName(const std::string &key)
{
    std::string out;
    for (size_t i = 0; i < key.size(); ++i) {
        if (key.compare(i, 2, "->") == 0) {
            out += "-to-";
            ++i;
        } else if (key[i] == '/') {
            out += '_';
        } else if (std::isalnum(static_cast<unsigned char>(key[i])) || key[i] == '-' || key[i] == '.') {
            out += key[i];
        } else {
            out += '_';
        }
    }
    return out;
}

} // namespace tl

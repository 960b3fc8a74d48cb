// run, runs, show, transfer, delete, export-mask, import-mask: experiments in the SQLite store.

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include <unistd.h>

#include "analysis/analysis.h"
#include "cli_common.h"
#include "engine/run_spec.h"
#include "engine/runner.h"
#include "analysis/tickets.h"
#include "libtorch/io/checkpoint.h"
#include "prune/mask_io.h"
#include "prune/mask_set.h"
#include "prune/prune_order.h"
#include "libtorch/prune/pruner.h"
#include "store/experiment_store.h"
#include "libtorch/train/device.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace tl::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void onInterrupt(int) { g_interrupted = true; }

/// Text or JSON lines for run events; false once Ctrl-C was pressed (the run then stops
/// cleanly, its finished rounds kept, and resumes when started again).
RunEventFn eventPrinter(const std::string &format)
{
    return [format](const RunEvent &e) {
        if (e.type == "tick")
            return !g_interrupted.load();
        if (format == "json") {
            nlohmann::json j = {{"event", e.type}, {"run", e.runId}, {"seed", e.seed}, {"round", e.round},
                                {"rounds", e.rounds}, {"sparsity", e.sparsity}};
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
            printJsonLine(j);
            std::cout.flush();
        } else if (e.type == "run_start") {
            std::fprintf(stderr, "run %lld (seed %llu)%s\n", static_cast<long long>(e.runId),
                         static_cast<unsigned long long>(e.seed),
                         e.reused    ? ": done already, nothing to do"
                         : e.resumed ? ": resuming"
                                     : "");
        } else if (e.type == "progress") {
            std::fprintf(stderr, "run %lld round %d/%d (sparsity %.3f) step %lld/%lld | loss %.4f | ETA %s\n",
                         static_cast<long long>(e.runId), e.round, e.rounds, e.sparsity,
                         static_cast<long long>(e.step), static_cast<long long>(e.totalSteps), e.loss,
                         formatSeconds(e.etaSeconds).c_str());
        } else if (e.type == "round_done") {
            std::fprintf(stderr, "run %lld round %d done: sparsity %.3f", static_cast<long long>(e.runId), e.round,
                         e.sparsity);
            for (const auto &[k, v] : e.metrics)
                std::fprintf(stderr, " %s %.4f", k.c_str(), v);
            std::fprintf(stderr, "\n");
        }
        return !g_interrupted.load();
    };
}

} // namespace

void executeAndReport(const RunSpec &spec, const std::string &db, const std::string &progress,
                      const std::function<void(const RunOutcome &)> &report)
{
    resolveDevice(spec.device); // an unusable device fails before the database and the data are touched
    g_interrupted = false;
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    const RunOutcome outcome = executeRunSpec(spec, db, eventPrinter(progress));
    std::string ids;
    for (int64_t id : outcome.runIds)
        ids += (ids.empty() ? "" : " ") + std::to_string(id);
    if (report)
        report(outcome);
    if (progress == "json")
        printJsonLine({{"event", "done"},
                       {"runs", outcome.runIds},
                       {"actions", outcome.actions},
                       {"cancelled", outcome.cancelled}});
    else if (!report)
        std::printf("%s\n", ids.c_str());
    std::fflush(stdout);
    if (outcome.cancelled)
        throw Error("interrupted; run the same spec against " + db + " again to resume");
}

namespace {

/// Command-line overrides of a spec's fields (each changes the runs' identity, as the field does).
struct SpecOverrides
{
    int threads = 0; ///< 0: the spec's
    int repeat = 0;  ///< 0: the spec's
    int64_t maxSteps = 0;
    std::vector<uint64_t> seeds;

    void addThreads(CLI::App *cmd)
    {
        cmd->add_option("--threads", threads, "LibTorch intra-op threads (overrides the spec's)")
            ->check(CLI::Range(1, 4096));
    }
    void apply(nlohmann::json &j) const
    {
        if (threads > 0)
            j["threads"] = threads;
        if (repeat > 0)
            j["repeat"] = repeat;
        if (maxSteps > 0)
            j["train"]["max_steps"] = maxSteps;
        if (!seeds.empty())
            j["seeds"] = seeds;
    }
};

RunSpec withOverrides(const RunSpec &spec, const SpecOverrides &o, const std::string &source)
{
    nlohmann::json j = spec.toJson();
    o.apply(j);
    return RunSpec::fromJson(j, source);
}

nlohmann::json parseJsonOrEmpty(const std::string &text)
{
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &) {
        return nlohmann::json::object();
    }
}

nlohmann::json runJson(const RunRecord &r)
{
    return {{"id", r.id},
            {"kind", r.kind},
            {"status", r.status},
            {"task", r.task},
            {"seed", r.seed},
            {"repetition", r.repetition},
            {"device", r.device},
            {"threads", r.threads},
            {"torch_version", r.torchVersion},
            {"blas", r.blas},
            {"created_at", r.createdAt},
            {"updated_at", r.updatedAt},
            {"version", r.ticketlabVersion},
            {"error", r.error},
            {"spec", parseJsonOrEmpty(r.specJson)}};
}

/// The error of a failed run on one line (messages may hold newlines).
std::string oneLine(std::string text)
{
    for (char &c : text)
        if (c == '\n' || c == '\t')
            c = ' ';
    return text;
}

RunRecord requireRun(ExperimentStore &store, int64_t id)
{
    auto r = store.run(id);
    if (!r)
        throw Error(store.path() + ": no run " + std::to_string(id));
    return *r;
}

struct StoreArgs
{
    std::string db, spec, format = "text", progress = "text", task, dataDir, model, file, out, maskFormat;
    int64_t run = 0;
    std::vector<int64_t> from;
    std::vector<std::string> targets;
    int round = 0;
    SpecOverrides overrides;
    std::vector<int64_t> ids;
    bool yes = false;
};

/// Asks on the terminal; refuses (throws) when stdin is not one, so that a script never
/// deletes without saying --yes.
bool confirmed(const std::string &question)
{
    if (!::isatty(STDIN_FILENO))
        throw Error("refusing to delete without --yes: stdin is not a terminal to ask on");
    std::fprintf(stderr, "%s [y/N] ", question.c_str());
    std::fflush(stderr);
    std::string answer;
    if (!std::getline(std::cin, answer))
        return false;
    return answer == "y" || answer == "Y" || answer == "yes";
}

} // namespace

void addRunCommands(CLI::App &app)
{
    auto a = std::make_shared<StoreArgs>();
    CLI::App *run = app.add_subcommand("run", "Run or resume a run spec (JSON) against an experiment database");
    run->add_option("spec", a->spec, "Run spec JSON file")->required()->check(CLI::ExistingFile);
    run->add_option("--db", a->db, "Experiment database (SQLite; created when absent)")->required();
    run->add_option("--progress", a->progress, "text (stderr) or json (one object per line on stdout)")
        ->capture_default_str()->check(CLI::IsMember({"text", "json"}));
    a->overrides.addThreads(run);
    run->add_option("--repeat", a->overrides.repeat,
                    "Run repetition K (>= 1) of the spec: new runs even where the spec's own are done; "
                    "running with the same K again resumes or reuses them")
        ->check(CLI::Range(1, RunSpec::kMaxRepeat));
    run->callback(
        [a] { executeAndReport(withOverrides(RunSpec::load(a->spec), a->overrides, a->spec), a->db, a->progress); });

    auto l = std::make_shared<StoreArgs>();
    CLI::App *runs = app.add_subcommand("runs", "List the runs of a database");
    runs->add_option("--db", l->db, "Experiment database")->required()->check(CLI::ExistingFile);
    runs->add_option("--format", l->format, "text or json")->capture_default_str()->check(CLI::IsMember({"text", "json"}));
    runs->callback([l] {
        auto store = ExperimentStore::open(l->db);
        nlohmann::json all = nlohmann::json::array();
        for (const RunRecord &r : store->runs()) {
            const auto rounds = store->rounds(r.id);
            if (l->format == "json") {
                nlohmann::json j = runJson(r);
                j["rounds"] = rounds.size();
                all.push_back(j);
            } else {
                std::printf("%lld\t%s\t%s\t%s\tseed %llu%s\t%zu rounds\t%s%s\n", static_cast<long long>(r.id),
                            r.kind.c_str(), r.task.c_str(), r.status.c_str(), static_cast<unsigned long long>(r.seed),
                            r.repetition > 0 ? (" repeat " + std::to_string(r.repetition)).c_str() : "", rounds.size(),
                            r.createdAt.c_str(), r.error.empty() ? "" : ("\terror: " + oneLine(r.error)).c_str());
            }
        }
        if (l->format == "json")
            std::printf("%s\n", all.dump(2).c_str());
    });

    auto s = std::make_shared<StoreArgs>();
    CLI::App *show = app.add_subcommand("show", "The per-round table of a run");
    show->add_option("run", s->run, "Run id")->required();
    show->add_option("--db", s->db, "Experiment database")->required()->check(CLI::ExistingFile);
    show->add_option("--format", s->format, "text, csv or json")->capture_default_str()
        ->check(CLI::IsMember({"text", "csv", "json"}));
    show->callback([s] {
        auto store = ExperimentStore::open(s->db);
        const RunRecord r = requireRun(*store, s->run);
        const auto rounds = store->rounds(r.id);
        if (s->format == "json") {
            nlohmann::json rows = nlohmann::json::array();
            for (const RoundRecord &x : rounds)
                rows.push_back({{"round", x.round}, {"sparsity", x.sparsity}, {"metrics", parseJsonOrEmpty(x.devMetricsJson)},
                                {"train", parseJsonOrEmpty(x.trainMetricsJson)}, {"steps", x.steps},
                                {"train_seconds", x.trainSeconds}});
            nlohmann::json j = runJson(r);
            j["rounds"] = rows;
            std::printf("%s\n", j.dump(2).c_str());
            return;
        }
        std::vector<std::string> keys;
        for (const RoundRecord &x : rounds) {
            const nlohmann::json metrics = parseJsonOrEmpty(x.devMetricsJson); // items() must not outlive it
            for (auto &[k, v] : metrics.items())
                if (std::find(keys.begin(), keys.end(), k) == keys.end())
                    keys.push_back(k);
        }
        const char *sep = s->format == "csv" ? "," : "\t";
        if (s->format == "text") {
            std::printf("run %lld: %s %s seed %llu%s (%s)\n", static_cast<long long>(r.id), r.kind.c_str(),
                        r.task.c_str(), static_cast<unsigned long long>(r.seed),
                        r.repetition > 0 ? (", repetition " + std::to_string(r.repetition)).c_str() : "",
                        r.status.c_str());
            if (!r.error.empty())
                std::printf("error: %s\n", oneLine(r.error).c_str());
        }
        std::printf("round%ssparsity", sep);
        for (const std::string &k : keys)
            std::printf("%s%s", sep, k.c_str());
        std::printf("\n");
        for (const RoundRecord &x : rounds) {
            const auto m = parseJsonOrEmpty(x.devMetricsJson);
            std::printf("%d%s%.6f", x.round, sep, x.sparsity);
            for (const std::string &k : keys)
                std::printf("%s%s", sep, m.contains(k) && m[k].is_number() ? std::to_string(m[k].get<double>()).c_str() : "");
            std::printf("\n");
        }
    });

    auto t = std::make_shared<StoreArgs>();
    CLI::App *tr = app.add_subcommand(
        "transfer", "Fine-tune stored masks on other tasks: every --from run x every target (the paper's Figure 2)");
    tr->add_option("--db", t->db, "Experiment database")->required()->check(CLI::ExistingFile);
    tr->add_option("--from", t->from, "Source run id(s)")->required();
    tr->add_option("--round", t->round, "Source round")->required();
    tr->add_option("--task", t->task, "Target task (with --data-dir)");
    tr->add_option("--data-dir", t->dataDir, "Target task folder")->check(CLI::ExistingDirectory);
    tr->add_option("--target", t->targets, "More targets as TASK=DIR (repeatable)");
    tr->add_option("--model", t->model, "Model folder (default: the source run's)");
    tr->add_option("--seeds", t->overrides.seeds, "Seeds of the transfer runs (default: the source run's spec's)");
    tr->add_option("--max-steps", t->overrides.maxSteps, "Cap on the training steps (default: the source spec's)")
        ->check(CLI::PositiveNumber);
    t->overrides.addThreads(tr);
    tr->add_option("--progress", t->progress, "text or json")->capture_default_str()->check(CLI::IsMember({"text", "json"}));
    tr->callback([t] {
        std::vector<std::pair<std::string, std::string>> targets;
        if (!t->task.empty() || !t->dataDir.empty()) {
            if (t->task.empty() || t->dataDir.empty())
                throw Error("--task and --data-dir go together");
            targets.emplace_back(t->task, t->dataDir);
        }
        for (const std::string &target : t->targets) {
            const size_t eq = target.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == target.size())
                throw Error("--target '" + target + "': expected TASK=DIR");
            targets.emplace_back(target.substr(0, eq), target.substr(eq + 1));
        }
        if (targets.empty())
            throw Error("give a target: --task T --data-dir D, or --target T=D (repeatable)");
        for (int64_t from : t->from) {
            nlohmann::json stored;
            {
                auto store = ExperimentStore::open(t->db);
                stored = parseJsonOrEmpty(requireRun(*store, from).specJson);
            }
            // What the transfer keeps of its source's spec: model, training, seeds, threads, device.
            // Not the source's own source (a reinit's IMP run), pruning or repetition index.
            for (const char *key : {"source", "prune", "repeat"})
                stored.erase(key);
            stored["kind"] = "full"; // parsed as a plain spec; the transfer fields come below
            const RunSpec spec = RunSpec::fromJson(stored, "run " + std::to_string(from) + " spec");
            for (const auto &[task, dir] : targets) {
                nlohmann::json j = spec.toJson();
                j["kind"] = "transfer";
                j["task"] = task;
                j["data_dir"] = fs::absolute(dir).string();
                if (!t->model.empty())
                    j["model"] = fs::absolute(t->model).string();
                j["source"] = {{"run", from}, {"round", t->round}};
                j.erase("prune");
                t->overrides.apply(j);
                const RunSpec transfer = RunSpec::fromJson(j, "transfer");
                const std::string &canonicalTask = transfer.task;
                executeAndReport(transfer, t->db, t->progress, [&](const RunOutcome &o) {
                    // Which run holds which (source, target, seed): id first, for scripts.
                    for (size_t i = 0; i < o.runIds.size(); ++i) {
                        if (t->progress == "json") {
                            printJsonLine({{"event", "transfer"},
                                           {"run", o.runIds[i]},
                                           {"source_run", from},
                                           {"source_round", t->round},
                                           {"target", canonicalTask},
                                           {"seed", o.seeds[i]},
                                           {"action", o.actions[i]}});
                        } else {
                            std::printf("%lld\tfrom run %lld round %d\tto %s\tseed %llu\t%s\n",
                                        static_cast<long long>(o.runIds[i]), static_cast<long long>(from), t->round,
                                        canonicalTask.c_str(), static_cast<unsigned long long>(o.seeds[i]),
                                        o.actions[i] == "new"       ? "created"
                                        : o.actions[i] == "resumed" ? "resumed"
                                                                    : "done already");
                        }
                    }
                });
            }
        }
    });

    auto w = std::make_shared<StoreArgs>();
    w->spec = "within_std";
    w->model = "imp";
    CLI::App *tk = app.add_subcommand("tickets", "Metric versus sparsity over seeds, and the winning ticket, for a task");
    tk->add_option("--db", w->db, "Experiment database")->required()->check(CLI::ExistingFile);
    tk->add_option("--task", w->task, "Task, in any case (rte, SST-2, ...)")->required();
    tk->add_option("--kind", w->model, "Run kind to summarise (imp, random, ...)")
        ->capture_default_str()
        ->check(CLI::IsMember(ExperimentStore::runKinds()));
    tk->add_option("--criterion", w->spec, "within_std (the paper) or match")->capture_default_str()
        ->check(CLI::IsMember({"within_std", "match"}));
    auto metric = std::make_shared<std::string>("main");
    tk->add_option("--metric", *metric, "Dev metric (main, accuracy, f1, ...)")->capture_default_str();
    tk->add_option("--format", w->format, "text or json")->capture_default_str()->check(CLI::IsMember({"text", "json"}));
    tk->callback([w, metric] {
        auto store = ExperimentStore::open(w->db);
        // Task names in any case; an unknown task, metric or a kind without runs is an error.
        const std::string task = resolveStoredTask(*store, w->task);
        requireStoredMetric(*store, *metric, task);
        const std::vector<TicketSummary> summaries = summarizeAllTickets(*store, w->model, w->spec, *metric, task);
        if (summaries.empty()) {
            std::set<std::string> kinds;
            for (const RunRecord &r : store->runs())
                if (r.task == task)
                    kinds.insert(r.kind);
            std::string list;
            for (const std::string &k : kinds)
                list += (list.empty() ? "" : ", ") + k;
            throw Error(w->db + ": no " + w->model + " runs of task " + task + "; its runs are of kind " + list);
        }
        // One summary per model that ran the task (JSON: one line each).
        for (const TicketSummary &s : summaries) {
            if (w->format == "json") {
                nlohmann::json points = nlohmann::json::array();
                for (const SparsityPoint &p : s.points)
                    points.push_back({{"sparsity", p.sparsity}, {"mean", p.mean}, {"std", p.std}, {"seeds", p.seeds}});
                printJsonLine({{"model", s.model},
                               {"task", s.task},
                               {"kind", s.kind},
                               {"metric", s.metric},
                               {"criterion", s.criterion},
                               {"full", {{"mean", s.fullMean}, {"std", s.fullStd}, {"seeds", s.fullSeeds}}},
                               {"points", points},
                               {"winning_sparsity",
                                s.winningSparsity ? nlohmann::json(*s.winningSparsity) : nlohmann::json(nullptr)}});
                continue;
            }
            std::printf("%s %s %s (%s): full model %.4f +- %.4f over %d seed(s)\n", s.model.c_str(), s.task.c_str(),
                        s.kind.c_str(), s.metric.c_str(), s.fullMean, s.fullStd, s.fullSeeds);
            for (const SparsityPoint &p : s.points)
                std::printf("sparsity %.3f  %.4f +- %.4f  (%d seeds)%s\n", p.sparsity, p.mean, p.std, p.seeds,
                            s.winningSparsity && *s.winningSparsity == p.sparsity ? "  <- winning ticket" : "");
            if (!s.winningSparsity)
                std::printf("no winning ticket under %s\n", s.criterion.c_str());
        }
    });

    auto d = std::make_shared<StoreArgs>();
    CLI::App *del = app.add_subcommand(
        "delete", "Delete runs with their rounds, curves, masks, transfer records and checkpoint files");
    del->add_option("runs", d->ids, "Run ids")->required()->check(CLI::PositiveNumber);
    del->add_option("--db", d->db, "Experiment database")->required()->check(CLI::ExistingFile);
    del->add_flag("--yes,-y", d->yes, "Do not ask (needed when stdin is not a terminal)");
    del->callback([d] {
        auto store = ExperimentStore::open(d->db);
        std::string listing;
        for (int64_t id : d->ids) {
            const RunRecord r = requireRun(*store, id);
            listing += "  run " + std::to_string(r.id) + ": " + r.kind + " " + r.task + " seed " +
                       std::to_string(r.seed) + ", " + std::to_string(store->rounds(r.id).size()) + " rounds, " +
                       r.status +
                       (r.status == "running" ? " (if its process is alive, it fails at its next round)" : "") + "\n";
        }
        if (!d->yes) {
            std::fprintf(stderr, "%s", listing.c_str());
            if (!confirmed("Delete " + std::to_string(d->ids.size()) + " run(s) from " + d->db + "?"))
                throw Error("not confirmed; nothing deleted");
        }
        store->deleteRuns(d->ids);
        std::fprintf(stderr, "deleted %zu run(s) from %s\n", d->ids.size(), d->db.c_str());
    });

    auto e = std::make_shared<StoreArgs>();
    CLI::App *ex = app.add_subcommand("export-mask", "Write the mask of a stored run and round to a file");
    ex->add_option("--db", e->db, "Experiment database")->required()->check(CLI::ExistingFile);
    ex->add_option("--run", e->run, "Run id")->required();
    ex->add_option("--round", e->round, "Round (0 = dense)")->required();
    ex->add_option("--format", e->maskFormat, "safetensors, pt or npz (default: from --out's extension)");
    ex->add_option("--out", e->out, "Output file")->required();
    ex->callback([e] {
        auto store = ExperimentStore::open(e->db);
        const MaskSet mask = storedMask(*store, e->run, e->round);
        const MaskFormat format = e->maskFormat.empty() ? maskFormatFromPath(e->out) : maskFormatFromName(e->maskFormat);
        writeMaskFile(mask, e->out, format);
        std::fprintf(stderr, "wrote %s: %zu tensors, sparsity %.4f\n", e->out.c_str(), mask.tensors.size(),
                     mask.sparsity());
    });

    auto im = std::make_shared<StoreArgs>();
    im->round = 1;
    CLI::App *imp = app.add_subcommand("import-mask", "Read a mask file (safetensors, pt, npz, BERT-Tickets' mask.pt) into the database");
    imp->add_option("--db", im->db, "Experiment database")->required();
    imp->add_option("--file", im->file, "Mask file")->required()->check(CLI::ExistingFile);
    imp->add_option("--model", im->model, "The model folder the mask is for")->required()->check(CLI::ExistingDirectory);
    imp->add_option("--round", im->round, "Store the mask as this round (the round it was exported from)")
        ->capture_default_str()
        ->check(CLI::Range(1, 255));
    imp->callback([im] {
        const std::string configPath = (fs::path(im->model) / "config.json").string();
        const BertConfig config = BertConfig::load(configPath);
        BertNet net(config, BertHeads{true, false, false});
        const auto shapes = prunableShapes(net);
        const MaskSet mask = alignMask(readMaskFile(im->file), shapes, im->file);
        PruneOrder order = PruneOrder::fromMask(denseMask(prunableParameters(net)));
        order.record(mask, im->round);
        // The model as runs record it (same identity, so the same record), which gives analyses
        // its head count; the identity of an import is the mask's bytes, the model and the round.
        ModelRecord model;
        model.path = fs::absolute(im->model).string();
        model.configJson = config.toJson().dump();
        model.contentHash = contentHash({configPath, findWeightsFile(im->model)});
        const std::string maskHash = contentHash({im->file});
        const nlohmann::json spec = {{"mask_file", fs::absolute(im->file).string()},
                                     {"model", model.path},
                                     {"round", im->round},
                                     {"mask_hash", maskHash}};
        const std::string specHash =
            fnv1aHex(nlohmann::json{{"import", maskHash}, {"model", model.contentHash}, {"round", im->round}}.dump());
        auto store = ExperimentStore::open(im->db);
        const auto existing = store->findRun(specHash, 0);
        if (existing && existing->status == "done") {
            std::printf("%lld\n", static_cast<long long>(existing->id));
            std::fprintf(stderr, "%s is already imported as run %lld (round %d); nothing added\n", im->file.c_str(),
                         static_cast<long long>(existing->id), im->round);
            return;
        }
        int64_t id = existing ? existing->id : 0; // one killed between its two writes is completed
        if (!id) {
            RunRecord r;
            r.kind = "import";
            r.status = "running";
            r.specJson = spec.dump();
            r.specHash = specHash;
            r.task = "import";
            r.device = "cpu";
            r.modelId = store->upsertModel(model);
            id = store->createRun(r);
        }
        RoundRecord round;
        round.runId = id;
        round.round = im->round;
        round.sparsity = mask.sparsity();
        const std::vector<char> blob = encodePruneOrder(order);
        store->commitRound(round, {}, &blob);
        store->setRunStatus(id, "done");
        std::printf("%lld\n", static_cast<long long>(id));
        std::fprintf(stderr, "imported %s as run %lld (round %d, sparsity %.4f)\n", im->file.c_str(),
                     static_cast<long long>(id), im->round, mask.sparsity());
    });
}

} // namespace tl::cli

// run, runs, show, transfer, delete, export-mask, import-mask, mask-op: experiments in the SQLite store.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <unistd.h>

#include "analysis/analysis.h"
#include "analysis/mask_algebra.h"
#include "cli_common.h"
#include "engine/progress_protocol.h"
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
#include "util/csv.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace tl::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void onInterrupt(int)
{
    g_interrupted = true;
}

/// Text or JSON lines for run events; false once Ctrl-C was pressed (the run then stops
/// cleanly, its finished rounds kept, and resumes when started again).
RunEventFn eventPrinter(const std::string &format)
{
    return [format](const RunEvent &e) {
        if (e.type == RunEventType::Tick)
            return !g_interrupted.load();
        if (format == "json") {
            const nlohmann::json j = runEventToJson(e);
            printJsonLine(j);
            std::cout.flush();
        } else if (e.type == RunEventType::RunStart) {
            std::fprintf(stderr, "run %lld (seed %llu)%s\n", static_cast<long long>(e.runId),
                         static_cast<unsigned long long>(e.seed),
                         e.reused    ? ": done already, nothing to do"
                         : e.resumed ? ": resuming"
                                     : "");
        } else if (e.type == RunEventType::Progress) {
            std::fprintf(stderr, "run %lld round %d/%d (sparsity %.3f) step %lld/%lld | loss %.4f | ETA %s\n",
                         static_cast<long long>(e.runId), e.round, e.rounds, e.sparsity, static_cast<long long>(e.step),
                         static_cast<long long>(e.totalSteps), e.loss, formatDuration(e.etaSeconds).c_str());
        } else if (e.type == RunEventType::RoundDone) {
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
        printJsonLine(runsDoneToJson(outcome));
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
            {"kind", runKindName(r.kind)},
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

// ---- run ----------------------------------------------------------------------------------

struct RunOptions
{
    std::string spec, db, progress = "text";
    SpecOverrides overrides;
};

void addRunCommand(CLI::App &app)
{
    auto o = std::make_shared<RunOptions>();
    CLI::App *cmd = app.add_subcommand("run", "Run or resume a run spec (JSON) against an experiment database");
    cmd->add_option("spec", o->spec, "Run spec JSON file")->required()->check(CLI::ExistingFile);
    cmd->add_option("--db", o->db, "Experiment database (SQLite; created when absent)")->required();
    cmd->add_option("--progress", o->progress, "text (stderr) or json (one object per line on stdout)")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    o->overrides.addThreads(cmd);
    cmd->add_option("--repeat", o->overrides.repeat,
                    "Run repetition K (>= 1) of the spec: new runs even where the spec's own are done; "
                    "running with the same K again resumes or reuses them")
        ->check(CLI::Range(1, RunSpec::kMaxRepeat));
    cmd->callback(
        [o] { executeAndReport(withOverrides(RunSpec::load(o->spec), o->overrides, o->spec), o->db, o->progress); });
}

// ---- runs ---------------------------------------------------------------------------------

struct RunsOptions
{
    std::string db, format = "text";
};

void listRuns(const RunsOptions &o)
{
    auto store = ExperimentStore::open(o.db);
    nlohmann::json all = nlohmann::json::array();
    for (const RunRecord &r : store->runs()) {
        const auto rounds = store->rounds(r.id);
        if (o.format == "json") {
            nlohmann::json j = runJson(r);
            j["rounds"] = rounds.size();
            all.push_back(j);
        } else {
            std::printf("%lld\t%s\t%s\t%s\tseed %llu%s\t%zu rounds\t%s%s\n", static_cast<long long>(r.id),
                        runKindName(r.kind).c_str(), r.task.c_str(), r.status.c_str(),
                        static_cast<unsigned long long>(r.seed),
                        r.repetition > 0 ? (" repeat " + std::to_string(r.repetition)).c_str() : "", rounds.size(),
                        r.createdAt.c_str(), r.error.empty() ? "" : ("\terror: " + oneLine(r.error)).c_str());
        }
    }
    if (o.format == "json")
        std::printf("%s\n", all.dump(2).c_str());
}

void addRunsCommand(CLI::App &app)
{
    auto o = std::make_shared<RunsOptions>();
    CLI::App *cmd = app.add_subcommand("runs", "List the runs of a database");
    cmd->add_option("--db", o->db, "Experiment database")->required()->check(CLI::ExistingFile);
    cmd->add_option("--format", o->format, "text or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o] { listRuns(*o); });
}

// ---- show ---------------------------------------------------------------------------------

struct ShowOptions
{
    std::string db, format = "text";
    int64_t run = 0;
};

void showRunJson(const RunRecord &r, const std::vector<RoundRecord> &rounds)
{
    nlohmann::json rows = nlohmann::json::array();
    for (const RoundRecord &x : rounds) {
        rows.push_back({{"round", x.round},
                        {"sparsity", x.sparsity},
                        {"metrics", x.devMetrics()},
                        {"train", x.trainMetrics()},
                        {"steps", x.steps},
                        {"train_seconds", x.trainSeconds}});
        if (x.earlyBirdStep) // the early-bird rule ended this round's training there
            rows.back()["early_bird_step"] = x.earlyBirdStep;
    }
    nlohmann::json j = runJson(r);
    j["rounds"] = rows;
    std::printf("%s\n", j.dump(2).c_str());
}

/// A row of a text (tab-separated) or CSV table.
std::string tableRow(const std::vector<std::string> &fields, const std::string &format)
{
    if (format == "csv")
        return csvRow(fields);
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i)
        line += (i ? "\t" : "") + fields[i];
    return line + "\n";
}

/// A metric as `show` prints it ("" for a stored null).
std::string metricText(const std::map<std::string, double> &metrics, const std::string &key)
{
    const auto it = metrics.find(key);
    return it == metrics.end() || std::isnan(it->second) ? std::string() : std::to_string(it->second);
}

/// The per-round table as text (with a header line about the run) or CSV.
void showRunTable(const RunRecord &r, const std::vector<RoundRecord> &rounds, const std::string &format)
{
    std::vector<std::string> header = {"round", "sparsity"};
    for (const RoundRecord &x : rounds)
        for (const auto &[k, v] : x.devMetrics())
            if (std::find(header.begin() + 2, header.end(), k) == header.end())
                header.push_back(k);
    if (format == "text") {
        std::printf("%s: %s\n", runLabel(r).c_str(), r.status.c_str());
        if (!r.error.empty())
            std::printf("error: %s\n", oneLine(r.error).c_str());
    }
    std::printf("%s", tableRow(header, format).c_str());
    for (const RoundRecord &x : rounds) {
        const auto metrics = x.devMetrics();
        char sparsity[32];
        std::snprintf(sparsity, sizeof sparsity, "%.6f", x.sparsity);
        std::vector<std::string> row = {std::to_string(x.round), sparsity};
        for (auto k = header.begin() + 2; k != header.end(); ++k)
            row.push_back(metricText(metrics, *k));
        std::printf("%s", tableRow(row, format).c_str());
    }
}

void addShowCommand(CLI::App &app)
{
    auto o = std::make_shared<ShowOptions>();
    CLI::App *cmd = app.add_subcommand("show", "The per-round table of a run");
    cmd->add_option("run", o->run, "Run id")->required();
    cmd->add_option("--db", o->db, "Experiment database")->required()->check(CLI::ExistingFile);
    cmd->add_option("--format", o->format, "text, csv or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "csv", "json"}));
    cmd->callback([o] {
        auto store = ExperimentStore::open(o->db);
        const RunRecord r = store->requireRun(o->run);
        const auto rounds = store->rounds(r.id);
        if (o->format == "json")
            showRunJson(r, rounds);
        else
            showRunTable(r, rounds, o->format);
    });
}

// ---- transfer -----------------------------------------------------------------------------

struct TransferOptions
{
    std::string db, task, dataDir, model, progress = "text";
    std::vector<int64_t> from;
    std::vector<std::string> targets;
    int round = 0;
    SpecOverrides overrides;
};

/// The (task, data folder) pairs of --task/--data-dir and every --target TASK=DIR.
std::vector<std::pair<std::string, std::string>> transferTargets(const TransferOptions &o)
{
    std::vector<std::pair<std::string, std::string>> targets;
    if (!o.task.empty() || !o.dataDir.empty()) {
        if (o.task.empty() || o.dataDir.empty())
            throw Error("--task and --data-dir go together");
        targets.emplace_back(o.task, o.dataDir);
    }
    for (const std::string &target : o.targets) {
        const size_t eq = target.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == target.size())
            throw Error("--target '" + target + "': expected TASK=DIR");
        targets.emplace_back(target.substr(0, eq), target.substr(eq + 1));
    }
    if (targets.empty())
        throw Error("give a target: --task T --data-dir D, or --target T=D (repeatable)");
    return targets;
}

/// Which run holds which (source, target, seed): id first, for scripts.
void reportTransfers(const TransferOptions &o, int64_t from, const std::string &target, const RunOutcome &outcome)
{
    for (size_t i = 0; i < outcome.runIds.size(); ++i) {
        if (o.progress == "json") {
            printJsonLine({{"event", "transfer"},
                           {"run", outcome.runIds[i]},
                           {"source_run", from},
                           {"source_round", o.round},
                           {"target", target},
                           {"seed", outcome.seeds[i]},
                           {"action", outcome.actions[i]}});
        } else {
            const std::string &action = outcome.actions[i];
            std::printf("%lld\tfrom run %lld round %d\tto %s\tseed %llu\t%s\n",
                        static_cast<long long>(outcome.runIds[i]), static_cast<long long>(from), o.round,
                        target.c_str(), static_cast<unsigned long long>(outcome.seeds[i]),
                        action == "new"       ? "created"
                        : action == "resumed" ? "resumed"
                                              : "done already");
        }
    }
}

/// The spec a transfer of run `from`'s masks starts from: the run's own spec; for an import,
/// the spec of the first run a mask op took a mask from (an import's own spec names no
/// training), or, for a mask file, the model it was imported for with default training.
nlohmann::json transferBaseSpec(const ExperimentStore &store, int64_t from)
{
    RunRecord run = store.requireRun(from);
    for (int depth = 0; run.kind == RunKind::Import; ++depth) {
        const nlohmann::json spec = parseJsonOrEmpty(run.specJson);
        if (spec.contains("masks") && spec["masks"].is_array() && !spec["masks"].empty() && depth < 16) {
            run = store.requireRun(spec["masks"][0].value("run", int64_t(0)));
            continue;
        }
        if (spec.contains("model") && spec["model"].is_string())
            return {{"model", spec["model"]}, {"task", "RTE"}, {"data_dir", "."}};
        throw Error(store.path() + ": run " + std::to_string(from) +
                    " is an imported mask without a model; give --model");
    }
    return parseJsonOrEmpty(run.specJson);
}

void runTransfers(const TransferOptions &o)
{
    const auto targets = transferTargets(o);
    for (int64_t from : o.from) {
        nlohmann::json stored;
        {
            auto store = ExperimentStore::open(o.db);
            stored = transferBaseSpec(*store, from);
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
            if (!o.model.empty())
                j["model"] = fs::absolute(o.model).string();
            j["source"] = {{"run", from}, {"round", o.round}};
            j.erase("prune"); // a transfer prunes nothing itself
            o.overrides.apply(j);
            const RunSpec transfer = RunSpec::fromJson(j, "transfer");
            executeAndReport(transfer, o.db, o.progress,
                             [&](const RunOutcome &outcome) { reportTransfers(o, from, transfer.task, outcome); });
        }
    }
}

void addTransferCommand(CLI::App &app)
{
    auto o = std::make_shared<TransferOptions>();
    CLI::App *cmd = app.add_subcommand(
        "transfer", "Fine-tune stored masks on other tasks: every --from run x every target (the paper's Figure 2)");
    cmd->add_option("--db", o->db, "Experiment database")->required()->check(CLI::ExistingFile);
    cmd->add_option("--from", o->from, "Source run id(s)")->required();
    cmd->add_option("--round", o->round, "Source round")->required();
    cmd->add_option("--task", o->task, "Target task (with --data-dir)");
    cmd->add_option("--data-dir", o->dataDir, "Target task folder")->check(CLI::ExistingDirectory);
    cmd->add_option("--target", o->targets, "More targets as TASK=DIR (repeatable)");
    cmd->add_option("--model", o->model, "Model folder (default: the source run's)");
    cmd->add_option("--seeds", o->overrides.seeds, "Seeds of the transfer runs (default: the source run's spec's)");
    cmd->add_option("--max-steps", o->overrides.maxSteps, "Cap on the training steps (default: the source spec's)")
        ->check(CLI::PositiveNumber);
    o->overrides.addThreads(cmd);
    cmd->add_option("--progress", o->progress, "text or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o] { runTransfers(*o); });
}

// ---- tickets ------------------------------------------------------------------------------

struct TicketsOptions
{
    std::string db, task, kind = runKindName(RunKind::Imp), criterion = "within_std", metric = kMainMetric,
                          format = "text";
};

void printTicketSummary(const TicketSummary &s, const std::string &format)
{
    if (format == "json") {
        nlohmann::json points = nlohmann::json::array();
        for (const SparsityPoint &p : s.points)
            points.push_back({{"sparsity", p.sparsity}, {"mean", p.mean}, {"std", p.std}, {"seeds", p.seeds}});
        printJsonLine(
            {{"model", s.model},
             {"task", s.task},
             {"kind", runKindName(s.kind)},
             {"metric", s.metric},
             {"criterion", s.criterion},
             {"full", {{"mean", s.fullMean}, {"std", s.fullStd}, {"seeds", s.fullSeeds}}},
             {"points", points},
             {"winning_sparsity", s.winningSparsity ? nlohmann::json(*s.winningSparsity) : nlohmann::json(nullptr)}});
        return;
    }
    std::printf("%s %s %s (%s): full model %.4f +- %.4f over %d seed(s)\n", s.model.c_str(), s.task.c_str(),
                runKindName(s.kind).c_str(), s.metric.c_str(), s.fullMean, s.fullStd, s.fullSeeds);
    for (const SparsityPoint &p : s.points)
        std::printf("sparsity %.3f  %.4f +- %.4f  (%d seeds)%s\n", p.sparsity, p.mean, p.std, p.seeds,
                    s.winningSparsity && *s.winningSparsity == p.sparsity ? "  <- winning ticket" : "");
    if (!s.winningSparsity)
        std::printf("no winning ticket under %s\n", s.criterion.c_str());
}

void showTickets(const TicketsOptions &o)
{
    auto store = ExperimentStore::open(o.db);
    // Task names in any case; an unknown task, metric or a kind without runs is an error.
    const std::string task = resolveStoredTask(*store, o.task);
    requireStoredMetric(*store, o.metric, task);
    const std::vector<TicketSummary> summaries =
        summarizeAllTickets(*store, runKindFromName(o.kind), o.criterion, o.metric, task);
    if (summaries.empty()) {
        std::set<std::string> kinds;
        for (const RunRecord &r : store->runs())
            if (r.task == task)
                kinds.insert(runKindName(r.kind));
        std::string list;
        for (const std::string &k : kinds)
            list += (list.empty() ? "" : ", ") + k;
        throw Error(o.db + ": no " + o.kind + " runs of task " + task + "; its runs are of kind " + list);
    }
    // One summary per model that ran the task (JSON: one line each).
    for (const TicketSummary &s : summaries)
        printTicketSummary(s, o.format);
}

void addTicketsCommand(CLI::App &app)
{
    auto o = std::make_shared<TicketsOptions>();
    CLI::App *cmd =
        app.add_subcommand("tickets", "Metric versus sparsity over seeds, and the winning ticket, for a task");
    cmd->add_option("--db", o->db, "Experiment database")->required()->check(CLI::ExistingFile);
    cmd->add_option("--task", o->task, "Task, in any case (rte, SST-2, ...)")->required();
    cmd->add_option("--kind", o->kind, "Run kind to summarise (imp, random, ...)")
        ->capture_default_str()
        ->check(CLI::IsMember(runKindNames()));
    cmd->add_option("--criterion", o->criterion, "within_std (the paper) or match")
        ->capture_default_str()
        ->check(CLI::IsMember(ticketCriteria()));
    cmd->add_option("--metric", o->metric, "Dev metric (main, accuracy, f1, ...)")->capture_default_str();
    cmd->add_option("--format", o->format, "text or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o] { showTickets(*o); });
}

// ---- delete -------------------------------------------------------------------------------

struct DeleteOptions
{
    std::string db;
    std::vector<int64_t> ids;
    bool yes = false;
};

void deleteRuns(const DeleteOptions &o)
{
    auto store = ExperimentStore::open(o.db);
    std::string listing;
    for (int64_t id : o.ids) {
        const RunRecord r = store->requireRun(id);
        listing += "  run " + runLabel(r) + ", " + std::to_string(store->rounds(r.id).size()) + " rounds, " + r.status +
                   (r.status == "running" ? " (if its process is alive, it fails at its next round)" : "") + "\n";
    }
    if (!o.yes) {
        std::fprintf(stderr, "%s", listing.c_str());
        if (!confirmed("Delete " + std::to_string(o.ids.size()) + " run(s) from " + o.db + "?"))
            throw Error("not confirmed; nothing deleted");
    }
    store->deleteRuns(o.ids);
    std::fprintf(stderr, "deleted %zu run(s) from %s\n", o.ids.size(), o.db.c_str());
}

void addDeleteCommand(CLI::App &app)
{
    auto o = std::make_shared<DeleteOptions>();
    CLI::App *cmd = app.add_subcommand(
        "delete", "Delete runs with their rounds, curves, masks, transfer records and checkpoint files");
    cmd->add_option("runs", o->ids, "Run ids")->required()->check(CLI::PositiveNumber);
    cmd->add_option("--db", o->db, "Experiment database")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--yes,-y", o->yes, "Do not ask (needed when stdin is not a terminal)");
    cmd->callback([o] { deleteRuns(*o); });
}

// ---- export-mask --------------------------------------------------------------------------

struct ExportMaskOptions
{
    std::string db, format, out;
    int64_t run = 0;
    int round = 0;
};

void addExportMaskCommand(CLI::App &app)
{
    auto o = std::make_shared<ExportMaskOptions>();
    CLI::App *cmd = app.add_subcommand("export-mask", "Write the mask of a stored run and round to a file");
    cmd->add_option("--db", o->db, "Experiment database")->required()->check(CLI::ExistingFile);
    cmd->add_option("--run", o->run, "Run id")->required();
    cmd->add_option("--round", o->round, "Round (0 = dense)")->required();
    cmd->add_option("--format", o->format, "safetensors, pt or npz (default: from --out's extension)");
    cmd->add_option("--out", o->out, "Output file")->required();
    cmd->callback([o] {
        auto store = ExperimentStore::open(o->db);
        const MaskSet mask = storedMask(*store, o->run, o->round);
        const MaskFormat format = o->format.empty() ? maskFormatFromPath(o->out) : maskFormatFromName(o->format);
        writeMaskFile(mask, o->out, format);
        std::fprintf(stderr, "wrote %s: %zu tensors, sparsity %.4f\n", o->out.c_str(), mask.tensors.size(),
                     mask.sparsity());
    });
}

// ---- import-mask --------------------------------------------------------------------------

struct ImportMaskOptions
{
    std::string db, file, model;
    int round = 1;
};

/// The import run of (mask file, model, round): reused when already done, completed when a
/// killed import left it running, else created.
void importMask(const ImportMaskOptions &o)
{
    const std::string configPath = (fs::path(o.model) / "config.json").string();
    const BertConfig config = BertConfig::load(configPath);
    BertNet net(config, BertHeads{true, false, false});
    const auto shapes = prunableShapes(net);
    const MaskSet mask = alignMask(readMaskFile(o.file), shapes, o.file);
    // The model as runs record it (same identity, so the same record), which gives analyses
    // its head count; the identity of an import is the mask's bytes, the model and the round.
    ModelRecord model;
    model.path = fs::absolute(o.model).string();
    model.configJson = config.toJson().dump();
    model.contentHash = contentHash({configPath, findWeightsFile(o.model)});
    const std::string maskHash = contentHash({o.file});
    const nlohmann::json spec = {{"mask_file", fs::absolute(o.file).string()},
                                 {"model", model.path},
                                 {"round", o.round},
                                 {"mask_hash", maskHash}};
    const std::string specHash =
        fnv1aHex(nlohmann::json{{"import", maskHash}, {"model", model.contentHash}, {"round", o.round}}.dump());
    auto store = ExperimentStore::open(o.db);
    const StoredImport stored = storeImportedMask(*store, spec, specHash, store->upsertModel(model), mask, o.round);
    std::printf("%lld\n", static_cast<long long>(stored.runId));
    if (stored.existed)
        std::fprintf(stderr, "%s is already imported as run %lld (round %d); nothing added\n", o.file.c_str(),
                     static_cast<long long>(stored.runId), o.round);
    else
        std::fprintf(stderr, "imported %s as run %lld (round %d, sparsity %.4f)\n", o.file.c_str(),
                     static_cast<long long>(stored.runId), o.round, mask.sparsity());
}

void addImportMaskCommand(CLI::App &app)
{
    auto o = std::make_shared<ImportMaskOptions>();
    CLI::App *cmd = app.add_subcommand(
        "import-mask", "Read a mask file (safetensors, pt, npz, BERT-Tickets' mask.pt) into the database");
    cmd->add_option("--db", o->db, "Experiment database")->required();
    cmd->add_option("--file", o->file, "Mask file")->required()->check(CLI::ExistingFile);
    cmd->add_option("--model", o->model, "The model folder the mask is for")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--round", o->round, "Store the mask as this round (the round it was exported from)")
        ->capture_default_str()
        ->check(CLI::Range(1, 255));
    cmd->callback([o] { importMask(*o); });
}

// ---- mask-op ------------------------------------------------------------------------------

struct MaskOpOptions
{
    std::string db, op, masks, name, format = "text";
};

void addMaskOpCommand(CLI::App &app)
{
    auto o = std::make_shared<MaskOpOptions>();
    CLI::App *cmd = app.add_subcommand(
        "mask-op", "Intersect, unite or subtract stored masks; the result is stored as an imported mask (a run to "
                   "train with a transfer, export or analyse)");
    cmd->add_option("op", o->op, "intersect (kept by all), union (kept by any) or diff (kept by the first only)")
        ->required()
        ->check(CLI::IsMember({"intersect", "union", "diff"}));
    cmd->add_option("--db", o->db, "Experiment database")->required()->check(CLI::ExistingFile);
    cmd->add_option("--masks", o->masks, "RUN:ROUND,... (a bare RUN is its last mask round), at least two")->required();
    cmd->add_option("--name", o->name, "A name for the result, kept in its spec")->required();
    cmd->add_option("--format", o->format, "text or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    cmd->callback([o] {
        auto store = ExperimentStore::open(o->db);
        const MaskOp op = maskOpFromName(o->op);
        const StoredMaskOp r = storeMaskOp(*store, op, parseMaskRefs(o->masks), o->name);
        if (o->format == "json") {
            printJsonLine({{"run", r.runId},
                           {"created", r.created},
                           {"op", maskOpName(op)},
                           {"sparsity", r.mask.sparsity()},
                           {"kept", r.mask.kept()},
                           {"total", r.mask.total()}});
            return;
        }
        std::printf("%lld\n", static_cast<long long>(r.runId));
        std::fprintf(stderr, "%s %s as run %lld (round 1): %lld of %lld weights kept, sparsity %.4f%s\n",
                     r.created ? "stored" : "found", o->name.c_str(), static_cast<long long>(r.runId),
                     static_cast<long long>(r.mask.kept()), static_cast<long long>(r.mask.total()), r.mask.sparsity(),
                     r.mask.kept() == 0 ? " (the mask keeps nothing)" : "");
    });
}

} // namespace

void addRunCommands(CLI::App &app)
{
    addRunCommand(app);
    addRunsCommand(app);
    addShowCommand(app);
    addTransferCommand(app);
    addTicketsCommand(app);
    addDeleteCommand(app);
    addExportMaskCommand(app);
    addImportMaskCommand(app);
    addMaskOpCommand(app);
}

} // namespace tl::cli

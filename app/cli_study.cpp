// study plan / run / run-one / slurm / report, and merge: the paper's whole protocol as one file.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <sys/prctl.h>
#include <unistd.h>

#include "analysis/tickets.h"
#include "child_process.h"
#include "cli_common.h"
#include "engine/progress_protocol.h"
#include "engine/run_spec.h"
#include "store/experiment_store.h"
#include "store/merge.h"
#include "study/report.h"
#include "study/study.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace tl::cli {
namespace {

std::atomic<bool> g_stop{false};
void onStopSignal(int)
{
    g_stop = true;
}

const PlannedRun &findKey(const std::vector<PlannedRun> &plan, const std::string &key, const StudySpec &study)
{
    for (const PlannedRun &r : plan)
        if (r.key == key)
            return r;
    std::string some;
    for (size_t i = 0; i < plan.size() && i < 6; ++i)
        some += (i ? ", " : "") + plan[i].key;
    throw Error(study.path + ": no run \"" + key + "\" in the study's plan (keys look like " + some +
                "; `study plan` lists them all)");
}

/// Threads per child: the study's own count, else the cores split between the jobs.
int threadsPerJob(const StudySpec &study, int jobs)
{
    if (study.shared.contains("threads") && study.shared["threads"].get<int>() > 0)
        return 0; // the study's value stands
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    return std::max(1, static_cast<int>(cores) / std::max(1, jobs));
}

/// --tasks / --seeds: run or report a study part by part (StudySpec::part).
struct StudyPart
{
    std::vector<std::string> tasks;
    std::vector<uint64_t> seeds;
};

void addPartOptions(CLI::App *command, StudyPart &part)
{
    command
        ->add_option("--tasks", part.tasks,
                     "Only these of the study's tasks, comma-separated (its runs keep their keys and specs; a "
                     "transfer is in a part that has both its tasks)")
        ->delimiter(',');
    command->add_option("--seeds", part.seeds, "Only these of the study's seeds, comma-separated")
        ->delimiter(',')
        ->check(CLI::Validator(
            [](std::string &v) {
                return v.find_first_not_of("0123456789") == std::string::npos && !v.empty()
                           ? std::string()
                           : "a seed is a non-negative integer, got \"" + v + "\"";
            },
            "SEED"));
}

StudySpec loadStudy(const std::string &path, const StudyPart &part)
{
    return StudySpec::load(path).part(part.tasks, part.seeds);
}

struct PlanArgs
{
    StudyPart part;
    std::string study, db, progress = "text";
    int jobs = 1, threads = 0;
    std::string key, stores;
    bool dieWithParent = false;
};

void planCommand(const PlanArgs &a)
{
    const StudySpec study = loadStudy(a.study, a.part);
    const std::vector<PlannedRun> plan = planStudy(study, a.threads > 0 ? a.threads : threadsPerJob(study, a.jobs));
    std::vector<PlanStatus> status;
    if (!a.db.empty()) {
        if (!fs::exists(a.db))
            throw Error(a.db + ": no such database");
        status = planStatuses(*ExperimentStore::open(a.db), plan);
    }
    for (size_t i = 0; i < plan.size(); ++i) {
        nlohmann::json j = {
            {"key", plan[i].key},   {"kind", runKindName(plan[i].kind)}, {"task", plan[i].task},
            {"seed", plan[i].seed}, {"depends_on", plan[i].dependsOn},   {"spec_hash", plan[i].spec.hash()}};
        if (!status.empty())
            j["status"] = planStatusName(status[i]);
        printJsonLine(j);
    }
}

/// Brings the finished runs a planned run depends on into db: from db itself, or else from the
/// per-key store files of a SLURM output folder.
void ensureDependencies(const PlannedRun &run, const std::vector<PlannedRun> &plan, const std::string &db,
                        const std::string &storesDir)
{
    if (run.dependsOn.empty())
        return;
    for (const std::string &dep : run.dependsOn) {
        const PlannedRun *d = nullptr;
        for (const PlannedRun &p : plan)
            if (p.key == dep)
                d = &p;
        auto done = [&] {
            auto store = ExperimentStore::open(db);
            return planStatuses(*store, {*d}).front() == PlanStatus::Done;
        };
        if (done())
            continue;
        if (!storesDir.empty()) {
            const std::string file = (fs::path(storesDir) / (keyFileName(dep) + ".db")).string();
            if (fs::exists(file)) {
                auto into = ExperimentStore::open(db);
                auto from = ExperimentStore::open(file);
                mergeStore(*into, *from);
            }
        }
        if (!done())
            throw Error(run.key + " needs " + dep + ", which has no finished run in " + db +
                        (storesDir.empty() ? std::string() : " nor in " + storesDir));
    }
}

void runOneCommand(const PlanArgs &a)
{
    if (a.dieWithParent) {
        // study run's children stop cleanly (SIGTERM: after the current step) when it dies.
        const pid_t parent = ::getppid();
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent)
            throw Error("the parent study run has exited");
    }
    const StudySpec study = StudySpec::load(a.study);
    const std::vector<PlannedRun> plan = planStudy(study, a.threads);
    const PlannedRun &run = findKey(plan, a.key, study);
    ensureDependencies(run, plan, a.db, a.stores);
    executeAndReport(run.spec, a.db, a.progress);
}

/// study run: the plan as a pool of `study run-one` children, each run starting as soon as the
/// runs it depends on are done.
class StudyRunner
{
public:
    StudyRunner(const PlanArgs &a) : m_args(a), m_study(loadStudy(a.study, a.part))
    {
        m_threads = a.threads > 0 ? a.threads : threadsPerJob(m_study, a.jobs);
        m_plan = planStudy(m_study, m_threads);
    }

    int run();

private:
    struct Job
    {
        size_t index;
        std::unique_ptr<ChildProcess> child;
        RunEvent last;
        double firstFraction = -1; ///< the run's progress at its first event: a resumed run starts part-done
    };
    enum class State
    {
        Waiting,
        Running,
        Done,
        Failed,
        Blocked,
        Stopped ///< by Ctrl-C or SIGTERM: keeps its rounds, resumes on the next `study run`
    };

    void start(size_t index);
    void pump(Job &job);
    void finish(Job &job);
    void report(bool force);
    bool json() const { return m_args.progress == "json"; }

    PlanArgs m_args;
    StudySpec m_study;
    int m_threads = 0;
    std::vector<PlannedRun> m_plan;
    std::vector<State> m_state;
    std::vector<std::string> m_errors;
    std::vector<Job> m_jobs;
    std::chrono::steady_clock::time_point m_t0 = std::chrono::steady_clock::now(), m_lastReport{};
    int m_doneBefore = 0;
    double m_workDone = 0; ///< runs' worth of work finished by this process (for the ETA)
};

void StudyRunner::start(size_t index)
{
    std::vector<std::string> argv = {selfExecutable(),   "study", "run-one", m_args.study, "--key",
                                     m_plan[index].key,  "--db",  m_args.db, "--progress", "json",
                                     "--die-with-parent"};
    if (m_threads > 0) {
        argv.push_back("--threads");
        argv.push_back(std::to_string(m_threads));
    }
    Job job{index, std::make_unique<ChildProcess>(argv), {}};
    m_state[index] = State::Running;
    if (json())
        printJsonLine({{"event", "run_begin"}, {"key", m_plan[index].key}});
    m_jobs.push_back(std::move(job));
}

void StudyRunner::pump(Job &job)
{
    std::vector<std::string> lines;
    job.child->readAvailable(job.child->stdoutFd(), lines);
    job.child->readAvailable(job.child->stderrFd(), lines);
    const std::string &key = m_plan[job.index].key;
    for (const std::string &line : lines) {
        const auto parsed = parseProgressLine(line);
        if (!parsed || parsed->done)
            continue;
        job.last = parsed->event;
        if (job.firstFraction < 0)
            job.firstFraction = runFractionDone(job.last);
        if (json()) {
            nlohmann::json j = runEventToJson(parsed->event);
            j["key"] = key;
            printJsonLine(j);
        } else if (parsed->event.type == RunEventType::RoundDone) {
            std::string metrics;
            for (const auto &[k, v] : parsed->event.metrics) {
                char buf[64];
                std::snprintf(buf, sizeof buf, " %s %.4f", k.c_str(), v);
                metrics += buf;
            }
            std::fprintf(stderr, "%s: round %d/%d done (run %lld, sparsity %.3f)%s\n", key.c_str(), parsed->event.round,
                         parsed->event.rounds, static_cast<long long>(parsed->event.runId), parsed->event.sparsity,
                         metrics.c_str());
        }
    }
}

void StudyRunner::finish(Job &job)
{
    pump(job);
    const std::string &key = m_plan[job.index].key;
    const bool ok = job.child->exitCode() == 0 && job.child->termSignal() == 0;
    bool done = ok;
    if (ok) {
        auto store = ExperimentStore::open(m_args.db);
        done = planStatuses(*store, {m_plan[job.index]}).front() == PlanStatus::Done;
    }
    m_state[job.index] = done ? State::Done : g_stop ? State::Stopped : State::Failed;
    if (done)
        m_workDone += 1.0 - std::max(0.0, job.firstFraction);
    if (!done)
        m_errors[job.index] = g_stop ? "stopped" : job.child->lastError();
    if (json())
        printJsonLine({{"event", "run_end"}, {"key", key}, {"ok", done}, {"error", m_errors[job.index]}});
    else if (!done && !g_stop)
        std::fprintf(stderr, "%s: FAILED: %s\n", key.c_str(), m_errors[job.index].c_str());
}

void StudyRunner::report(bool force)
{
    const auto now = std::chrono::steady_clock::now();
    // A terminal gets a line every 10 s; a log file (nohup, a batch job) one a minute.
    static const bool tty = ::isatty(STDERR_FILENO) != 0;
    if (!force && now - m_lastReport < std::chrono::seconds(json() || tty ? 10 : 60))
        return;
    m_lastReport = now;
    int done = 0, failed = 0, waiting = 0, stopped = 0;
    for (State s : m_state) {
        done += s == State::Done;
        failed += s == State::Failed || s == State::Blocked;
        waiting += s == State::Waiting;
        stopped += s == State::Stopped;
    }
    // The ETA extrapolates the work this process has done (a resumed run's earlier rounds are
    // not its work) over the work left: the waiting runs and what the running ones still need.
    double running = 0, workHere = m_workDone;
    for (const Job &j : m_jobs) {
        const double f = runFractionDone(j.last);
        running += f;
        workHere += f - std::max(0.0, j.firstFraction);
    }
    const double left = waiting + (static_cast<double>(m_jobs.size()) - running);
    const double elapsed = std::chrono::duration<double>(now - m_t0).count();
    const double eta = left <= 0 ? 0 : workHere > 0 ? elapsed * left / workHere : -1;
    if (json()) {
        printJsonLine({{"event", "study_progress"},
                       {"done", done},
                       {"total", m_plan.size()},
                       {"failed", failed},
                       {"stopped", stopped},
                       {"running", m_jobs.size()},
                       {"eta_s", eta}});
        return;
    }
    const int width = 30;
    const double overall = m_plan.empty() ? 1.0 : (done + running) / double(m_plan.size());
    const int filled = std::clamp(static_cast<int>(overall * width + 0.5), 0, width);
    const std::string failedText = failed ? ", " + std::to_string(failed) + " failed" : std::string();
    const std::string stoppedText = stopped ? ", " + std::to_string(stopped) + " stopped" : std::string();
    std::fprintf(stderr, "[%s%s] %d/%zu runs done, %zu running%s%s | ETA %s\n", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), done, m_plan.size(), m_jobs.size(), failedText.c_str(),
                 stoppedText.c_str(), formatDuration(eta).c_str());
}

int StudyRunner::run()
{
    {
        auto store = ExperimentStore::open(m_args.db);
        const auto status = planStatuses(*store, m_plan);
        m_state.assign(m_plan.size(), State::Waiting);
        m_errors.assign(m_plan.size(), {});
        for (size_t i = 0; i < m_plan.size(); ++i)
            if (status[i] == PlanStatus::Done) {
                m_state[i] = State::Done;
                ++m_doneBefore;
            }
    }
    if (!json())
        std::fprintf(stderr, "study %s%s: %zu runs, %d done, %d jobs x %d threads\n", m_study.name.c_str(),
                     m_study.partLabel.empty() ? "" : (" (" + m_study.partLabel + ")").c_str(), m_plan.size(),
                     m_doneBefore, m_args.jobs, m_plan.empty() ? m_threads : m_plan.front().spec.threads);
    std::map<std::string, size_t> indexOf;
    for (size_t i = 0; i < m_plan.size(); ++i)
        indexOf[m_plan[i].key] = i;
    g_stop = false;
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    bool stopping = false;
    for (;;) {
        if (g_stop && !stopping) {
            stopping = true;
            std::fprintf(stderr, "stopping: the running runs finish their current step and keep their rounds\n");
            for (Job &j : m_jobs)
                j.child->terminate();
        }
        // Start what is ready.
        for (size_t i = 0; !stopping && i < m_plan.size() && static_cast<int>(m_jobs.size()) < m_args.jobs; ++i) {
            if (m_state[i] != State::Waiting)
                continue;
            bool ready = true;
            for (const std::string &dep : m_plan[i].dependsOn) {
                const State d = m_state[indexOf.at(dep)];
                if (d == State::Failed || d == State::Blocked) {
                    m_state[i] = State::Blocked;
                    m_errors[i] = "needs " + dep + ", which failed";
                    ready = false;
                    break;
                }
                ready = ready && d == State::Done;
            }
            if (ready && m_state[i] == State::Waiting)
                start(i);
        }
        if (m_jobs.empty())
            break;
        std::vector<ChildProcess *> children;
        for (Job &j : m_jobs)
            children.push_back(j.child.get());
        waitForOutput(children, 500);
        for (Job &j : m_jobs)
            pump(j);
        for (auto it = m_jobs.begin(); it != m_jobs.end();) {
            if (it->child->poll()) {
                finish(*it);
                it = m_jobs.erase(it);
                report(true);
            } else {
                ++it;
            }
        }
        report(false);
    }
    report(true);
    int failed = 0;
    for (size_t i = 0; i < m_plan.size(); ++i) {
        if (m_state[i] == State::Failed || m_state[i] == State::Blocked) {
            ++failed;
            if (!stopping)
                std::fprintf(stderr, "failed: %s: %s\n", m_plan[i].key.c_str(), m_errors[i].c_str());
        }
    }
    if (stopping)
        throw Error("interrupted; run the same command again to resume the study");
    if (failed)
        throw Error(std::to_string(failed) + " of " + std::to_string(m_plan.size()) +
                    " runs failed or could not start");
    return 0;
}

struct SlurmArgs
{
    StudyPart part;
    std::string study, out, partition, time, mem, account, cli;
    int gpusPerTask = 0, cpusPerTask = 0, threads = 0;
    std::vector<std::string> extra;
    bool submit = false;
};

std::string shellQuote(const std::string &s)
{
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

void writeText(const fs::path &path, const std::string &text, bool executable = false)
{
    std::FILE *f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0)
        throw Error(path.string() + ": cannot write");
    if (executable)
        fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
}

/// study slurm: one job array per dependency level; each array task runs one planned run into
/// its own store file (SQLite must not be shared over NFS), and `merge` joins them afterwards.
void slurmCommand(const SlurmArgs &a)
{
    const StudySpec study = loadStudy(a.study, a.part);
    const int threads =
        a.threads > 0 ? a.threads
        : a.cpusPerTask > 0 && !(study.shared.contains("threads") && study.shared["threads"].get<int>() > 0)
            ? a.cpusPerTask
            : 0;
    const std::vector<PlannedRun> plan = planStudy(study, threads);
    const fs::path out = fs::absolute(a.out);
    for (const char *sub : {"jobs", "stores", "logs"})
        fs::create_directories(out / sub);
    const std::string cli = a.cli.empty() ? selfExecutable() : fs::absolute(a.cli).string();
    const std::string studyPath = fs::absolute(a.study).string();
    std::map<int, std::vector<const PlannedRun *>> levels;
    for (const PlannedRun &r : plan)
        levels[r.level].push_back(&r);

    std::string submit =
        "#!/bin/sh\n# Submits the study's job arrays in dependency order (written by ticketlab-cli study slurm).\n"
        "set -eu\ncd \"$(dirname \"$0\")\"\n";
    std::string previous;
    for (const auto &[level, runs] : levels) {
        const std::string name = "level" + std::to_string(level);
        std::string keys;
        for (const PlannedRun *r : runs)
            keys += r->key + "\t" + keyFileName(r->key) + "\n";
        writeText(out / "jobs" / (name + ".keys"), keys);
        std::string job = "#!/bin/bash\n";
        job += "#SBATCH --job-name=" + study.name + "-" + name + "\n";
        job += "#SBATCH --array=0-" + std::to_string(runs.size() - 1) + "\n";
        job += "#SBATCH --output=" + (out / "logs" / "%x-%a.out").string() + "\n";
        job += "#SBATCH --ntasks=1\n";
        if (a.cpusPerTask > 0)
            job += "#SBATCH --cpus-per-task=" + std::to_string(a.cpusPerTask) + "\n";
        if (a.gpusPerTask > 0)
            job += "#SBATCH --gpus-per-task=" + std::to_string(a.gpusPerTask) + "\n";
        if (!a.partition.empty())
            job += "#SBATCH --partition=" + a.partition + "\n";
        if (!a.time.empty())
            job += "#SBATCH --time=" + a.time + "\n";
        if (!a.mem.empty())
            job += "#SBATCH --mem=" + a.mem + "\n";
        if (!a.account.empty())
            job += "#SBATCH --account=" + a.account + "\n";
        for (const std::string &line : a.extra)
            job += line + "\n";
        job += "set -euo pipefail\n";
        job += "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" " +
               shellQuote((out / "jobs" / (name + ".keys")).string()) + ")\n";
        job += "key=${line%%$'\\t'*}\nfile=${line#*$'\\t'}\n";
        job += "exec " + shellQuote(cli) + " study run-one " + shellQuote(studyPath) + " --key \"$key\" --db " +
               shellQuote((out / "stores").string()) + "/\"$file\".db --stores " +
               shellQuote((out / "stores").string()) +
               (threads > 0 ? " --threads " + std::to_string(threads) : std::string()) + "\n";
        writeText(out / "jobs" / (name + ".sbatch"), job, true);
        const std::string var = "job" + std::to_string(level);
        submit += var + "=$(sbatch --parsable" + (previous.empty() ? "" : " --dependency=afterok:$" + previous) +
                  " jobs/" + name + ".sbatch)\n" + var + "=${" + var + "%%;*}\n";
        submit += "echo \"" + name + ": job $" + var + " (" + std::to_string(runs.size()) + " runs)\"\n";
        previous = var;
    }
    submit += "echo \"when done: " + cli + " merge --into LAB.db " + (out / "stores").string() + "/*.db\"\n";
    writeText(out / "submit.sh", submit, true);
    std::fprintf(stderr, "wrote %s: %zu runs in %zu job array(s); submit with %s\n", out.c_str(), plan.size(),
                 levels.size(), (out / "submit.sh").c_str());
    if (a.submit) {
        const int rc = std::system(shellQuote((out / "submit.sh").string()).c_str());
        if (rc != 0)
            throw Error((out / "submit.sh").string() + " failed (exit status " + std::to_string(rc) + ")");
    }
}

struct ReportArgs
{
    StudyPart part;
    std::string study, db, out, gui;
    int threads = 0;
    bool figures = true;
};

std::string joinIds(const std::vector<int64_t> &ids)
{
    std::string out;
    for (int64_t id : ids)
        out += (out.empty() ? "" : ",") + std::to_string(id);
    return out;
}

/// The round of `run` at `sparsity` (the same sparsityKey, as Table 2 groups rounds), or -1.
int roundAtSparsity(const ExperimentStore &store, int64_t run, double sparsity)
{
    for (const RoundRecord &r : store.rounds(run))
        if (sparsityKey(r.sparsity) == sparsityKey(sparsity))
            return r.round;
    return -1;
}

/// The figures of a study, drawn by the desktop app's headless exporter (the CLI links no Qt):
/// metric versus sparsity and the transfer matrix of the whole study, then for each task its
/// ticket's masks (at the ticket's sparsity, else at the sparsity Table 2 compares at): head
/// survival of up to four seeds and per-layer sparsity of the first.
std::vector<std::string> exportStudyFigures(const ReportArgs &a, const StudyReport &r, const ExperimentStore &store)
{
    std::string gui = a.gui;
    if (gui.empty())
        gui = (fs::path(selfExecutable()).parent_path() / "ticketlab").string();
    if (!fs::exists(gui)) {
        std::fprintf(stderr, "study report: %s not found (a build without the GUI?): no figures\n", gui.c_str());
        return {};
    }
    const fs::path dir = fs::path(a.out) / "figures";
    fs::create_directories(dir);
    std::vector<std::string> written;
    auto draw = [&](const std::string &figure, const std::string &file, const std::vector<int64_t> &ids,
                    const std::vector<std::string> &extra) {
        if (ids.empty())
            return;
        std::vector<std::string> argv = {gui,        "export-figure",
                                         "--db",     a.db,
                                         "--figure", figure,
                                         "--runs",   joinIds(ids),
                                         "--out",    (dir / (file + ".png")).string(),
                                         "--dpi",    "150"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        ChildProcess child(argv);
        std::vector<std::string> lines;
        while (child.readAvailable(child.stdoutFd(), lines) | child.readAvailable(child.stderrFd(), lines))
            waitForOutput({&child}, 200);
        while (!child.poll())
            waitForOutput({}, 50);
        if (child.exitCode() != 0)
            std::fprintf(stderr, "study report: figure %s failed: %s\n", file.c_str(), child.lastError().c_str());
        else
            written.push_back("figures/" + file + ".png");
    };
    // IMP, the full model and the baselines: the figure reads its ticket and full model from the
    // runs it is given, under the study's criterion, as the tables do.
    std::vector<int64_t> curves;
    for (const RunKindInfo &k : runKindTable())
        if (k.kind == RunKind::Imp || k.baselineOf == RunKind::Imp)
            for (int64_t id : r.runIds(k.kind))
                curves.push_back(id);
    draw("metric-vs-sparsity", "metric-vs-sparsity", curves, {"--criterion", r.criterion});
    draw("transfer-matrix", "transfer-matrix", r.runIds(RunKind::Transfer), {});
    std::map<std::string, std::vector<int64_t>> impsOfTask; // the study's IMP runs (seeds) by task
    for (int64_t id : r.runIds(RunKind::Imp))
        if (const std::optional<RunRecord> run = store.run(id))
            impsOfTask[run->task].push_back(id);
    for (const Table2Row &row : r.rows) {
        if (!row.hasImp)
            continue;
        const double sparsity = row.ticketSparsity.value_or(row.comparedAt);
        std::vector<int64_t> ids; // up to four of them that reached that sparsity, at the same round
        int round = -1;
        for (int64_t id : impsOfTask[row.task]) {
            const int k = roundAtSparsity(store, id, sparsity);
            if (k < 0 || (round >= 0 && k != round) || ids.size() == 4)
                continue;
            round = k;
            ids.push_back(id);
        }
        if (ids.empty())
            continue;
        const std::string roundArg = std::to_string(round);
        // A panel per seed, wide enough for its title.
        const std::string size = std::to_string(160 + 330 * int(ids.size())) + "x460";
        draw("head-survival", "head-survival-" + keyFileName(row.task), ids, {"--round", roundArg, "--size", size});
        draw("sparsity-heatmap", "sparsity-heatmap-" + keyFileName(row.task), {ids.front()}, {"--round", roundArg});
    }
    return written;
}

void reportCommand(const ReportArgs &a)
{
    if (!fs::exists(a.db))
        throw Error(a.db + ": no such database");
    const StudySpec study = loadStudy(a.study, a.part);
    auto store = ExperimentStore::open(a.db);
    const StudyReport report = buildStudyReport(*store, study, a.threads);
    std::vector<std::string> figures;
    fs::create_directories(a.out);
    if (a.figures)
        figures = exportStudyFigures(a, report, *store);
    writeStudyReport(report, a.out, figures);
    std::fprintf(stderr, "wrote %s: table2, transfer, report.md, %zu figure(s); %zu of the plan's runs missing\n",
                 a.out.c_str(), figures.size(), report.missing.size());
}

struct MergeArgs
{
    std::string into;
    std::vector<std::string> stores;
};

void mergeCommand(const MergeArgs &a)
{
    // Every input is checked before the lab is touched: a typo must not half-merge a list.
    for (const std::string &file : a.stores)
        if (!fs::is_regular_file(file))
            throw Error(file + ": no such store file");
    auto into = ExperimentStore::open(a.into);
    MergeReport total;
    for (const std::string &file : a.stores) {
        if (fs::exists(a.into) && fs::equivalent(file, a.into))
            continue; // a glob over the output folder may include the lab itself
        auto from = ExperimentStore::open(file);
        const MergeReport r = mergeStore(*into, *from);
        std::fprintf(stderr, "%s: %d run(s) added, %d already present%s\n", file.c_str(), r.added, r.identical,
                     r.unfinished ? (", " + std::to_string(r.unfinished) + " unfinished left out").c_str() : "");
        total.added += r.added;
        total.identical += r.identical;
        total.unfinished += r.unfinished;
    }
    printJsonLine({{"added", total.added}, {"identical", total.identical}, {"unfinished", total.unfinished}});
}

} // namespace

void addMergeCommand(CLI::App &app)
{
    auto m = std::make_shared<MergeArgs>();
    CLI::App *merge = app.add_subcommand("merge", "Copy the finished runs of store files into a lab (idempotent)");
    merge->add_option("--into", m->into, "The lab database (created when absent)")->required();
    merge->add_option("stores", m->stores, "Store files to merge (e.g. DIR/stores/*.db)")->required();
    merge->callback([m] { mergeCommand(*m); });
}

void addStudyCommands(CLI::App &app)
{
    CLI::App *study =
        app.add_subcommand("study", "A whole study (tasks x IMP and baselines x seeds, transfer) from one file");
    study->require_subcommand(1);

    auto p = std::make_shared<PlanArgs>();
    CLI::App *plan = study->add_subcommand("plan", "Print the runs a study expands to, one JSON line each");
    plan->add_option("study", p->study, "Study JSON file")->required()->check(CLI::ExistingFile);
    plan->add_option("--db", p->db, "Report each run's status in this database (done, partial, todo)");
    plan->add_option("--jobs", p->jobs, "As for study run (the thread count per run depends on it)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    plan->add_option("--threads", p->threads, "Threads per run (default: the study's, else cores / jobs)");
    addPartOptions(plan, p->part);
    plan->callback([p] { planCommand(*p); });

    auto r = std::make_shared<PlanArgs>();
    CLI::App *run = study->add_subcommand("run", "Run the study's missing runs, --jobs at once, on this machine");
    run->add_option("study", r->study, "Study JSON file")->required()->check(CLI::ExistingFile);
    run->add_option("--db", r->db, "Experiment database (created when absent)")->required();
    run->add_option("--jobs", r->jobs, "Runs at once (child processes)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    run->add_option("--threads", r->threads, "Threads per run (default: the study's, else cores / jobs)");
    addPartOptions(run, r->part);
    run->add_option("--progress", r->progress, "text (stderr) or json (stdout)")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    run->callback([r] { StudyRunner(*r).run(); });

    auto o = std::make_shared<PlanArgs>();
    CLI::App *one =
        study->add_subcommand("run-one", "Run exactly one planned run (a SLURM array task, or study run's child)");
    one->add_option("study", o->study, "Study JSON file")->required()->check(CLI::ExistingFile);
    one->add_option("--key", o->key, "The run's key, as study plan prints it")->required();
    one->add_option("--db", o->db, "Experiment database (created when absent)")->required();
    one->add_option("--threads", o->threads, "Threads (must match the plan's: study run passes its own)");
    one->add_option("--stores", o->stores, "Folder of per-key store files to take finished dependencies from");
    one->add_option("--progress", o->progress, "text or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    auto sl = std::make_shared<SlurmArgs>();
    CLI::App *slurm =
        study->add_subcommand("slurm", "Write SLURM job arrays for the study (and submit them with --submit)");
    slurm->add_option("study", sl->study, "Study JSON file")->required()->check(CLI::ExistingFile);
    slurm->add_option("--out", sl->out, "Output folder: jobs/, stores/, logs/, submit.sh")->required();
    slurm->add_option("--partition", sl->partition, "#SBATCH --partition");
    slurm->add_option("--time", sl->time, "#SBATCH --time (HH:MM:SS)");
    slurm->add_option("--gpus-per-task", sl->gpusPerTask, "#SBATCH --gpus-per-task");
    slurm->add_option("--cpus-per-task", sl->cpusPerTask,
                      "#SBATCH --cpus-per-task (also the threads per run unless the study sets threads)");
    slurm->add_option("--mem", sl->mem, "#SBATCH --mem");
    slurm->add_option("--account", sl->account, "#SBATCH --account");
    slurm->add_option(
        "--extra", sl->extra,
        "Extra lines for every job script, e.g. \"#SBATCH --qos=high\" or \"module load cuda\" (repeatable)");
    slurm->add_option("--threads", sl->threads, "Threads per run (default: --cpus-per-task, else the study's)");
    slurm->add_option("--cli", sl->cli, "ticketlab-cli on the cluster's nodes (default: this one)");
    slurm->add_flag("--submit", sl->submit, "Run submit.sh (sbatch) after writing");
    addPartOptions(slurm, sl->part);
    slurm->callback([sl] { slurmCommand(*sl); });

    auto rep = std::make_shared<ReportArgs>();
    CLI::App *report = study->add_subcommand(
        "report", "Table 2 and the transfer matrix of a study as CSV, LaTeX, Markdown and figures");
    report->add_option("study", rep->study, "Study JSON file")->required()->check(CLI::ExistingFile);
    report->add_option("--db", rep->db, "The lab")->required();
    report->add_option("--out", rep->out, "Output folder")->required();
    report->add_option("--threads", rep->threads, "Threads the runs were made with (default: found in the lab)");
    report->add_option("--gui", rep->gui, "The ticketlab program that draws the figures (default: beside this one)");
    report->add_flag("--figures,!--no-figures", rep->figures, "Draw the figures (default on)");
    addPartOptions(report, rep->part);
    report->callback([rep] { reportCommand(*rep); });

    one->add_flag("--die-with-parent", o->dieWithParent, "Stop cleanly when the parent process exits")->group("");
    one->callback([o] { runOneCommand(*o); });
}

} // namespace tl::cli

#include "models/studygrid.h"

#include <QThread>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <set>

#include "store/experiment_store.h"
#include "study/report.h"
#include "util/error.h"

namespace tl::ui {

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

/// The keys of the planned runs of `task` (not transfers) of these kinds that are not done.
QStringList missingOf(const std::vector<PlannedRun> &plan, const std::vector<PlanStatus> &status,
                      const std::string &task, const std::set<RunKind> &kinds)
{
    QStringList out;
    for (size_t i = 0; i < plan.size(); ++i)
        if (plan[i].task == task && plan[i].sourceTask.empty() && kinds.count(plan[i].kind) &&
            status[i] != PlanStatus::Done)
            out << qs(plan[i].key);
    return out;
}

StudyGridCell cell(const QString &text, const QStringList &missing, const QString &what)
{
    StudyGridCell c{text, what, missing};
    if (!missing.isEmpty())
        c.toolTip +=
            QStringLiteral("\nwaiting for %1 run(s): %2").arg(missing.size()).arg(missing.join(QStringLiteral(", ")));
    return c;
}

StudyGridCell metricCell(const Cell &value, const QStringList &missing, const QString &what)
{
    return cell(qs(cellText(value)), missing, what);
}

/// The tooltip line setting a Table 2 cell beside the study's reference (kind: the cell's; nullopt:
/// the ticket), or "" when the reference has nothing for it.
QString referenceLine(const Table2Row &row, const std::string &label, std::optional<RunKind> kind)
{
    if (!row.reference)
        return {};
    const ReferenceComparison &r = *row.reference;
    const QString at = qs(percentText(r.sparsity)), metric = qs(r.metric);
    if (!kind)
        return QStringLiteral("\n%1: ticket at %2; this study's in %3: %4")
            .arg(qs(label), at, metric, qs(ticketText(row, r.ticketHere)));
    for (const ReferenceComparison::Value &v : r.values)
        if (v.kind == *kind)
            return QStringLiteral("\n%1: %2 %3%4 in %5; this study's: %6")
                .arg(qs(label), qs(baselineTitle(v.kind)), QString::number(v.reference, 'f', 4),
                     v.kind == RunKind::Full ? QString() : QStringLiteral(" at ") + at, metric, qs(cellText(v.here)));
    return {};
}

} // namespace

int StudyGrid::doneCount() const
{
    return int(
        std::count_if(plan.begin(), plan.end(), [](const StudyGridRun &r) { return r.status == PlanStatus::Done; }));
}

int StudyGrid::threadsForNewRuns(int parallel) const
{
    if (foundRuns || studySetsThreads)
        return threads;
    return std::max(1, QThread::idealThreadCount() / std::max(1, parallel));
}

StudyGrid loadStudyGrid(const QString &studyPath, const QString &dbPath)
{
    StudyGrid g;
    g.studyPath = studyPath;
    g.db = dbPath;
    try {
        const StudySpec study = StudySpec::load(studyPath.toStdString());
        g.name = qs(study.name);
        g.criterion = qs(study.criterion);
        g.studySetsThreads = study.shared.contains("threads") && study.shared["threads"].get<int>() > 0;
        std::error_code ec;
        if (!std::filesystem::is_regular_file(dbPath.toStdString(), ec))
            throw Error(dbPath.toStdString() + ": no such experiment database");
        const auto store = ExperimentStore::open(dbPath.toStdString());
        // One snapshot: a run another process finishes between the two reads would otherwise
        // count as done without its rounds in the table (seen under AddressSanitizer's pace).
        StudyReport report;
        std::vector<PlannedRun> plan;
        std::vector<PlanStatus> status;
        store->readSnapshot([&] {
            report = buildStudyReport(*store, study);
            plan = planStudy(study, report.threads);
            status = planStatuses(*store, plan);
        });
        g.threads = report.threads;
        g.foundRuns = !report.runs.empty();
        for (size_t i = 0; i < plan.size(); ++i) {
            StudyGridRun r{qs(plan[i].key), {}, status[i]};
            for (const std::string &d : plan[i].dependsOn)
                r.dependsOn << qs(d);
            g.plan << r;
        }

        // Table 2, as report.md lays it out. A cell waits for every run its value depends on:
        // the full model (or IMP's dense round without full runs), IMP (the ticket's sparsity,
        // where the baselines are read) and its own kind.
        const bool hasFull =
            std::find(study.baselines.begin(), study.baselines.end(), RunKind::Full) != study.baselines.end();
        const RunKind fullKind = hasFull ? RunKind::Full : RunKind::Imp;
        g.columns = {QStringLiteral("Task"),   QStringLiteral("Metric"), QStringLiteral("Full model"),
                     QStringLiteral("Ticket"), QStringLiteral("Strict"), QStringLiteral("IMP")};
        if (!report.rows.empty())
            for (const auto &[kind, value] : report.rows.front().baselines)
                g.columns << qs(baselineTitle(kind));
        for (const Table2Row &row : report.rows) {
            const QString task = qs(row.task);
            const QStringList full = missingOf(plan, status, row.task, {fullKind});
            const QStringList imp = missingOf(plan, status, row.task, {RunKind::Imp, fullKind});
            const QString at = qs(percentText(row.comparedAt));
            QList<StudyGridCell> cells;
            cells << cell(task, {}, task) << cell(qs(row.metricName), {}, QStringLiteral("the metric this row reads"));
            const std::string &label = report.referenceLabel;
            cells << metricCell(row.full, full,
                                task + QStringLiteral(": the full model") + referenceLine(row, label, RunKind::Full));
            cells << cell(
                qs(ticketText(row, row.ticketSparsity, percentText, "at " + percentText(row.comparedAt))), imp,
                task + QStringLiteral(": the highest sparsity meeting %1 against the full model").arg(g.criterion) +
                    referenceLine(row, label, std::nullopt));
            cells << cell(qs(ticketText(row, row.strictSparsity)), imp,
                          task + QStringLiteral(": the highest sparsity whose mean is at least the full model's"));
            cells << metricCell(row.imp, imp,
                                task + QStringLiteral(": IMP at %1").arg(at) + referenceLine(row, label, RunKind::Imp));
            for (const auto &[kind, value] : row.baselines)
                cells << metricCell(value, missingOf(plan, status, row.task, {kind, RunKind::Imp, fullKind}),
                                    task + QStringLiteral(": %1 at %2").arg(qs(baselineTitle(kind)), at) +
                                        referenceLine(row, label, kind));
            g.rows << cells;
        }

        // The transfer matrix: the transfer's metric, against the target's own ticket.
        if (study.transfer) {
            for (const std::string &s : study.transfer->from)
                g.sources << qs(s);
            for (const std::string &t : study.transfer->to)
                g.targets << qs(t);
            for (const std::string &source : study.transfer->from) {
                QList<StudyGridCell> cells;
                for (const std::string &target : study.transfer->to) {
                    if (source == target) {
                        cells << StudyGridCell{
                            QStringLiteral("\u2014"), QStringLiteral("a task's own ticket: Table 2"), {}};
                        continue;
                    }
                    QStringList missing = missingOf(plan, status, target, {RunKind::Imp, fullKind});
                    for (size_t i = 0; i < plan.size(); ++i)
                        if (plan[i].kind == RunKind::Transfer && plan[i].sourceTask == source &&
                            plan[i].task == target && status[i] != PlanStatus::Done)
                            missing.prepend(qs(plan[i].key));
                    const auto it = std::find_if(report.transfers.begin(), report.transfers.end(), [&](const auto &t) {
                        return t.source == source && t.target == target;
                    });
                    QString what = qs(source + " ticket on " + target);
                    if (it == report.transfers.end()) {
                        cells << metricCell({}, missing, what);
                        continue;
                    }
                    what += QStringLiteral(" at %1; %2's own IMP there: %3")
                                .arg(qs(percentText(it->sparsity)), qs(target), qs(cellText(it->targetImp)));
                    if (it->targetImp.n > 0)
                        what +=
                            QStringLiteral(" (difference %1)").arg(it->transfer.mean - it->targetImp.mean, 0, 'f', 4);
                    if (it->winning)
                        what += QStringLiteral("; a winning ticket on %1 (*)").arg(qs(target));
                    StudyGridCell c = metricCell(it->transfer, missing, what);
                    if (it->winning)
                        c.text += QStringLiteral(" *");
                    cells << c;
                }
                g.transfer << cells;
            }
        }
    } catch (const std::exception &e) {
        StudyGrid failed;
        failed.studyPath = studyPath;
        failed.db = dbPath;
        failed.error = QString::fromUtf8(e.what());
        return failed;
    }
    return g;
}

} // namespace tl::ui

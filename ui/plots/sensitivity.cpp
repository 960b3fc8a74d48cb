// sensitivity: a stored layer sensitivity scan (the dev metric's drop when one matrix of one
// layer alone is magnitude-pruned, no retraining) as layers x matrix types heat maps, one per
// sparsity, beside where an IMP run put its sparsity (the same grid, fraction pruned).

#include <algorithm>
#include <cmath>

#include "analysis/sensitivity_data.h"
#include "plots/figures_p.h"
#include "util/error.h"

namespace tl::ui {

Figure buildSensitivity(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.title = QStringLiteral("Layer sensitivity");
    f.csv = QStringLiteral("panel,layer,matrix,sparsity,metric,value\n");
    // The IMP run to compare with: the selected one, else the newest finished IMP run of the
    // scan's task.
    std::optional<RunRecord> run;
    if (!request.runs.isEmpty())
        run = store.requireRun(request.runs.front());
    std::string task = run ? run->task : std::string();
    if (request.analysis == 0 && store.analyses(kSensitivityAnalysis).empty()) {
        f.note = QStringLiteral("No sensitivity scan stored: run `ticketlab-cli analyze sensitivity --model M --task T "
                                "--data-dir D --db LAB.db` on a fine-tuned model.");
        return f;
    }
    // A selected run of a task with no scan falls back to the newest scan of any task.
    StoredSensitivity stored;
    try {
        stored = storedSensitivity(store, request.analysis, task);
    } catch (const Error &) {
        if (request.analysis != 0 || task.empty())
            throw;
        stored = storedSensitivity(store, 0);
    }
    const SensitivityScan &scan = stored.scan;
    if (!run || run->task != stored.task) {
        run.reset();
        for (const RunRecord &r : store.runs())
            if (r.kind == RunKind::Imp && r.task == stored.task && r.status == "done") {
                run = r;
                break;
            }
    }
    f.title = QStringLiteral("Layer sensitivity: %1, %2 %3 unpruned (scan %4%5)")
                  .arg(QString::fromStdString(stored.task), QString::fromStdString(scan.metric))
                  .arg(scan.baseline, 0, 'f', 3)
                  .arg(stored.id)
                  .arg(stored.name.empty() ? QString() : QStringLiteral(", ") + QString::fromStdString(stored.name));
    const auto &types = encoderMatrixTypes();
    QStringList xTicks, yTicks;
    for (MatrixType t : types)
        xTicks << QString::fromStdString(matrixTypeName(t));
    for (int l = 0; l < scan.layers(); ++l)
        yTicks << QString::number(l);
    double top = 0;
    for (const SensitivityCell &c : scan.cells)
        top = std::max(top, std::abs(c.drop));
    for (double s : scan.sparsities) {
        HeatmapPanel p;
        p.title = QStringLiteral("Drop at %1% (no retraining)").arg(100.0 * s, 0, 'f', 0);
        p.xLabel = QStringLiteral("Matrix");
        p.yLabel = QStringLiteral("Layer");
        p.colorLabel = QStringLiteral("%1 drop").arg(QString::fromStdString(scan.metric));
        p.xTicks = xTicks;
        p.yTicks = yTicks;
        p.diverging = true; // a drop below 0 (pruning helped) is blue
        p.vmin = -std::max(top, 1e-6);
        p.vmax = std::max(top, 1e-6);
        p.valueDecimals = 3;
        p.values.assign(size_t(p.rows() * p.cols()), std::nan(""));
        for (int l = 0; l < scan.layers(); ++l)
            for (size_t col = 0; col < types.size(); ++col)
                if (const SensitivityCell *c = scan.find(l, types[col], s)) {
                    p.values[size_t(l * p.cols() + int(col))] = c->drop;
                    f.csv += fig::csvRow({QStringLiteral("sensitivity"), QString::number(l), xTicks[int(col)],
                                          fig::csvNumber(s), fig::csvNumber(c->metric), fig::csvNumber(c->drop)});
                }
        f.heatmaps.push_back(std::move(p));
    }
    if (run) {
        const int round = fig::roundFor(store, *run, request.round);
        f.maxRound = fig::roundFor(store, *run, -1);
        HeatmapPanel p;
        p.title = QStringLiteral("Where IMP pruned: %1, round %2").arg(fig::runLabel(*run)).arg(round);
        p.xLabel = QStringLiteral("Matrix");
        p.yLabel = QStringLiteral("Layer");
        p.colorLabel = QStringLiteral("Fraction pruned");
        p.xTicks = xTicks;
        p.yTicks = yTicks;
        p.values.assign(size_t(p.rows() * p.cols()), std::nan(""));
        for (const LayerSparsity &e : layerSparsity(storedMask(store, run->id, round)))
            for (size_t col = 0; col < types.size(); ++col)
                if (types[col] == e.type && e.layer >= 0 && e.layer < p.rows()) {
                    p.values[size_t(e.layer * p.cols() + int(col))] = e.sparsity();
                    f.csv += fig::csvRow({QStringLiteral("imp run %1 round %2").arg(run->id).arg(round),
                                          QString::number(e.layer), xTicks[int(col)], fig::csvNumber(e.sparsity()),
                                          QString(), fig::csvNumber(e.sparsity())});
                }
        f.heatmaps.push_back(std::move(p));
    }
    return f;
}

} // namespace tl::ui

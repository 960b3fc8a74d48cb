// weight-histogram: |θ0| of the weights a mask keeps against those it prunes (log10 bins), all
// prunable weights and one matrix type, for one run and round.

#include <QFileInfo>

#include <cmath>

#include "analysis/weight_histogram.h"
#include "plots/figures_p.h"
#include "util/error.h"

namespace tl::ui {

namespace {

/// Each bin's share of the kept (and of the pruned) weights with a logarithm, so the two
/// populations compare whatever their sizes.
LinePanel histogramPanel(const WeightHistogram &h, const std::vector<double> &edges, const QString &title)
{
    LinePanel p;
    p.title = title;
    p.xLabel = QStringLiteral("log10 |\u03b8\u2080|");
    p.yLabel = QStringLiteral("Share of the weights");
    LineSeries kept, pruned;
    kept.name = QStringLiteral("kept (%1)").arg(h.keptCount);
    kept.color = QColor(0x1f, 0x77, 0xb4);
    pruned.name = QStringLiteral("pruned (%1)").arg(h.prunedCount);
    pruned.color = QColor(0xd6, 0x27, 0x28);
    pruned.dashed = true;
    int64_t keptTotal = 0, prunedTotal = 0;
    for (size_t b = 0; b < h.kept.size(); ++b) {
        keptTotal += h.kept[b];
        prunedTotal += h.pruned[b];
    }
    for (size_t b = 0; b < h.kept.size(); ++b) {
        const double x = 0.5 * (edges[b] + edges[b + 1]);
        kept.x.push_back(x);
        kept.y.push_back(keptTotal ? double(h.kept[b]) / double(keptTotal) : 0.0);
        pruned.x.push_back(x);
        pruned.y.push_back(prunedTotal ? double(h.pruned[b]) / double(prunedTotal) : 0.0);
    }
    kept.markers = pruned.markers = false;
    p.series = {kept, pruned};
    return p;
}

} // namespace

Figure buildWeightHistogram(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.title = QStringLiteral("Weight distribution");
    f.csv = QStringLiteral("run,label,round,type,log10_lo,log10_hi,kept,pruned\n");
    const auto runs = fig::masksRuns(store, request, 1);
    if (runs.empty()) {
        f.note = QStringLiteral("No run with masks yet: start an IMP run.");
        return f;
    }
    const RunRecord &run = runs.front();
    const int round = fig::roundFor(store, run, request.round);
    f.maxRound = fig::roundFor(store, run, -1);
    const auto model = run.modelId ? store.model(run.modelId) : std::nullopt;
    if (!model || !QFileInfo(QString::fromStdString(model->path)).isDir()) {
        f.note = QStringLiteral("%1: θ₀ is read from the run's model folder, %2, which is not on this machine.")
                     .arg(fig::runLabel(run),
                          model ? QString::fromStdString(model->path) : QStringLiteral("(none recorded)"));
        return f;
    }
    const WeightHistograms h = storedWeightHistograms(store, run.id, round, 50);
    f.title =
        QStringLiteral("|\u03b8\u2080| of kept and pruned weights: %1, round %2").arg(fig::runLabel(run)).arg(round);
    f.lines.push_back(histogramPanel(
        h.overall, h.edges,
        QStringLiteral(
            "All prunable weights: one-shot magnitude pruning of \u03b8\u2080 keeps %1% of the kept (chance %2%)")
            .arg(100.0 * h.magnitudeAgreement, 0, 'f', 1)
            .arg(100.0 * h.chanceAgreement, 0, 'f', 1)));
    for (const WeightHistogram &t : h.byType)
        if (QString::fromStdString(matrixTypeName(t.type)).compare(request.matrixType, Qt::CaseInsensitive) == 0)
            f.lines.push_back(histogramPanel(t, h.edges, QString::fromStdString(matrixTypeName(t.type))));
    std::vector<const WeightHistogram *> rows{&h.overall};
    for (const WeightHistogram &t : h.byType)
        rows.push_back(&t);
    for (const WeightHistogram *t : rows)
        for (size_t b = 0; b < t->kept.size(); ++b)
            f.csv +=
                fig::csvRow({QString::number(run.id), fig::runLabel(run), QString::number(round),
                             t == &h.overall ? QStringLiteral("all") : QString::fromStdString(matrixTypeName(t->type)),
                             fig::csvNumber(h.edges[b]), fig::csvNumber(h.edges[b + 1]), QString::number(t->kept[b]),
                             QString::number(t->pruned[b])});
    return f;
}

} // namespace tl::ui

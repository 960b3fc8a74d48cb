// sparsity-heatmap: layers x matrix types, fraction pruned, for one round of each run.

#include <map>

#include "analysis/analysis.h"
#include "plots/figures_p.h"

namespace tl::ui {

Figure buildSparsityHeatmap(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.title = QStringLiteral("Per-layer sparsity");
    f.csv = QStringLiteral("run,label,round,layer,matrix,total,pruned,sparsity\n");
    const auto runs = fig::masksRuns(store, request, 1);
    if (runs.empty()) {
        f.note = QStringLiteral("No run with masks yet: start an IMP run.");
        return f;
    }
    QStringList types;
    for (MatrixType t : encoderMatrixTypes())
        types << QString::fromStdString(matrixTypeName(t));
    for (const RunRecord &run : runs) {
        const int round = fig::roundFor(store, run, request.round);
        f.maxRound =
            f.maxRound < 0 ? fig::roundFor(store, run, -1) : std::min(f.maxRound, fig::roundFor(store, run, -1));
        const MaskSet mask = storedMask(store, run.id, round);
        const std::vector<LayerSparsity> entries = layerSparsity(mask);
        int layers = 0;
        bool pooler = false;
        for (const LayerSparsity &e : entries) {
            layers = std::max(layers, e.layer + 1);
            pooler = pooler || e.type == MatrixType::Pooler;
        }
        HeatmapPanel p;
        p.title = fig::maskTitle(run, round, mask);
        p.xLabel = QStringLiteral("Matrix");
        p.yLabel = QStringLiteral("Layer");
        p.colorLabel = QStringLiteral("Fraction pruned");
        p.xTicks = types;
        for (int l = 0; l < layers; ++l)
            p.yTicks << QString::number(l);
        if (pooler)
            p.yTicks << QStringLiteral("pooler");
        p.values.assign(size_t(p.rows() * p.cols()), std::nan(""));
        const auto &order = encoderMatrixTypes();
        for (const LayerSparsity &e : entries) {
            int row = e.layer, col = -1;
            if (e.type == MatrixType::Pooler) {
                row = layers;
                col = 0;
            } else {
                for (size_t c = 0; c < order.size(); ++c)
                    if (order[c] == e.type)
                        col = int(c);
            }
            if (row < 0 || col < 0)
                continue;
            p.values[size_t(row * p.cols() + col)] = e.sparsity();
            f.csv += fig::csvRow({QString::number(run.id), fig::runLabel(run), QString::number(round),
                                  QString::number(e.layer), QString::fromStdString(matrixTypeName(e.type)),
                                  QString::number(e.total), QString::number(e.pruned), fig::csvNumber(e.sparsity())});
        }
        f.heatmaps.push_back(std::move(p));
    }
    return f;
}

} // namespace tl::ui

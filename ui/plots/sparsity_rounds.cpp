// sparsity-rounds: layers x rounds, fraction pruned of one matrix type, for each run.

#include <cmath>

#include "analysis/analysis.h"
#include "plots/figures_p.h"
#include "util/error.h"

namespace tl::ui {

Figure buildSparsityRounds(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    std::optional<MatrixType> type;
    QStringList known;
    for (MatrixType t : encoderMatrixTypes()) {
        const QString name = QString::fromStdString(matrixTypeName(t));
        known << name;
        if (name.compare(request.matrixType, Qt::CaseInsensitive) == 0)
            type = t;
    }
    if (!type)
        throw Error("unknown matrix type '" + request.matrixType.toStdString() + "' (" +
                    known.join(QStringLiteral(", ")).toStdString() + ")");
    const QString typeName = QString::fromStdString(matrixTypeName(*type));
    f.title = QStringLiteral("Sparsity of %1 by round").arg(typeName);
    f.csv = QStringLiteral("run,label,round,layer,matrix,sparsity\n");
    const auto runs = fig::masksRuns(store, request, 1);
    if (runs.empty()) {
        f.note = QStringLiteral("No run with masks yet: start an IMP run.");
        return f;
    }
    for (const RunRecord &run : runs) {
        const int last = fig::roundFor(store, run, -1);
        HeatmapPanel p;
        p.title = fig::runLabel(run);
        p.xLabel = QStringLiteral("Round");
        p.yLabel = QStringLiteral("Layer");
        p.colorLabel = QStringLiteral("Fraction pruned (%1)").arg(typeName);
        for (int r = 0; r <= last; ++r)
            p.xTicks << QString::number(r);
        std::vector<std::vector<double>> byLayer; // layer -> round
        const auto byRound = layerSparsityByRound(storedPruneOrder(store, run.id));
        for (int r = 0; r <= last && r < int(byRound.size()); ++r) {
            for (const LayerSparsity &e : byRound[size_t(r)]) {
                if (e.type != *type || e.layer < 0)
                    continue;
                if (int(byLayer.size()) <= e.layer)
                    byLayer.resize(size_t(e.layer) + 1, std::vector<double>(size_t(last) + 1, std::nan("")));
                byLayer[size_t(e.layer)][size_t(r)] = e.sparsity();
                f.csv += fig::csvRow({QString::number(run.id), fig::runLabel(run), QString::number(r),
                                      QString::number(e.layer), typeName, fig::csvNumber(e.sparsity())});
            }
        }
        for (size_t l = 0; l < byLayer.size(); ++l) {
            p.yTicks << QString::number(l);
            p.values.insert(p.values.end(), byLayer[l].begin(), byLayer[l].end());
        }
        f.heatmaps.push_back(std::move(p));
    }
    return f;
}

} // namespace tl::ui

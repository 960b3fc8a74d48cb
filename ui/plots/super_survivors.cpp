// super-survivors: per layer and matrix type, how many more weights every selected mask keeps
// than chance would (kept by all / expected if each mask kept its count at random).

#include <cmath>

#include "analysis/mask_algebra.h"
#include "plots/figures_p.h"

namespace tl::ui {

Figure buildSuperSurvivors(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.title = QStringLiteral("Super-survivors");
    f.csv = QStringLiteral("layer,matrix,total,kept_by_all,expected,ratio\n");
    const auto runs = fig::masksRuns(store, request, 0);
    if (runs.size() < 2) {
        f.note = QStringLiteral("Select two or more runs with masks (say, each task's ticket): the view counts the "
                                "weights all of them keep.");
        return f;
    }
    std::vector<MaskSet> masks;
    std::vector<std::string> labels;
    QStringList names;
    for (const RunRecord &run : runs) {
        const int round = fig::roundFor(store, run, request.round);
        const int last = fig::roundFor(store, run, -1);
        f.maxRound = f.maxRound < 0 ? last : std::min(f.maxRound, last);
        masks.push_back(storedMask(store, run.id, round));
        labels.push_back(tl::runLabel(run) + ", round " + std::to_string(round));
        names << fig::runLabel(run) + QStringLiteral(" r%1").arg(round);
    }
    const SuperSurvivors s = superSurvivors(masks, labels);
    HeatmapPanel p;
    p.title = QStringLiteral("Kept by all %1 masks \u00f7 chance (overall %2\u00d7)")
                  .arg(s.masks)
                  .arg(s.overall.ratio(), 0, 'f', 2);
    p.xLabel = QStringLiteral("Matrix");
    p.yLabel = QStringLiteral("Layer");
    p.colorLabel = QStringLiteral("Kept by all / chance");
    const auto &types = encoderMatrixTypes();
    for (MatrixType t : types)
        p.xTicks << QString::fromStdString(matrixTypeName(t));
    int layers = 0;
    for (const SurvivorCount &c : s.byTensor)
        layers = std::max(layers, c.layer + 1);
    for (int l = 0; l < layers; ++l)
        p.yTicks << QString::number(l);
    p.values.assign(size_t(p.rows() * p.cols()), std::nan(""));
    double top = 1;
    for (const SurvivorCount &c : s.byTensor) {
        f.csv += fig::csvRow({QString::number(c.layer), QString::fromStdString(matrixTypeName(c.type)),
                              QString::number(c.total), QString::number(c.keptByAll), fig::csvNumber(c.expected),
                              fig::csvNumber(c.ratio())});
        if (c.layer < 0)
            continue;
        for (size_t col = 0; col < types.size(); ++col)
            if (types[col] == c.type && c.expected > 0) {
                p.values[size_t(c.layer * p.cols() + int(col))] = c.ratio();
                top = std::max(top, c.ratio());
            }
    }
    p.vmin = 0;
    p.vmax = std::ceil(top);
    const QString list = names.join(QStringLiteral(", "));
    f.title += QStringLiteral(": ") + (list.size() > 80 ? list.left(77) + QStringLiteral("\u2026") : list);
    f.heatmaps.push_back(std::move(p));
    return f;
}

} // namespace tl::ui

// early-bird: the distance between successive draws of the next prune's mask over a round's
// training steps, one line per round, with the early-bird threshold epsilon and the steps at
// which the rule stopped rounds.

#include <algorithm>

#include "analysis/early_bird.h"
#include "plots/figures_p.h"

namespace tl::ui {

Figure buildEarlyBird(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.title = QStringLiteral("Early-bird mask distance");
    f.csv = QStringLiteral("run,label,round,sparsity,step,distance,stopped_at\n");
    std::vector<RunRecord> runs;
    if (!request.runs.isEmpty()) {
        runs = fig::masksRuns(store, request, 0);
    } else {
        // The newest run that drew masks.
        for (const RunRecord &r : store.runs())
            if (!store.maskDistances(r.id).empty()) {
                runs.push_back(r);
                break;
            }
    }
    for (const RunRecord &run : runs) {
        const EarlyBirdReport report = earlyBirdReport(store, run.id, 0, request.metric.toStdString());
        LinePanel p;
        p.title = fig::runLabel(run);
        p.xLabel = QStringLiteral("Training step of the round");
        p.yLabel = QStringLiteral("Fraction of weights that changed mask");
        if (report.spec) {
            p.refMean = report.spec->epsilon;
            p.refLabel = QStringLiteral("\u03b5 = %1").arg(report.spec->epsilon);
        }
        for (const EarlyBirdRound &e : report.rounds) {
            if (e.draws.empty())
                continue;
            LineSeries s;
            s.name = QStringLiteral("round %1 \u2192 %2%").arg(e.round).arg(100.0 * e.sparsity, 0, 'f', 0);
            for (const MaskDistancePoint &d : e.draws) {
                s.x.push_back(double(d.step));
                s.y.push_back(d.distance);
                f.csv += fig::csvRow({QString::number(run.id), fig::runLabel(run), QString::number(e.round),
                                      fig::csvNumber(e.sparsity), QString::number(d.step), fig::csvNumber(d.distance),
                                      e.stoppedAt ? QString::number(e.stoppedAt) : QString()});
            }
            if (e.stoppedAt)
                p.marks.push_back(
                    {double(e.draws.back().step), e.draws.back().distance, QStringLiteral("stop %1").arg(e.round), {}});
            p.series.push_back(std::move(s));
        }
        if (p.series.empty())
            continue;
        if (report.stepsSaved > 0)
            p.title += QStringLiteral(": %1 of %2 steps saved")
                           .arg(report.stepsSaved)
                           .arg(report.stepsSaved + report.stepsTrained);
        f.lines.push_back(std::move(p));
    }
    if (f.lines.empty())
        f.note = QStringLiteral("No mask distances stored: run IMP with \"early_bird\" in its spec "
                                "(for example {\"early_bird\": {\"epsilon\": 0.1, \"window\": 3}}).");
    return f;
}

} // namespace tl::ui

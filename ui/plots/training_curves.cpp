// training-curves: training loss and learning rate over steps, one series per run and round.

#include <algorithm>
#include <cmath>
#include <map>

#include "plots/figures_p.h"

namespace tl::ui {

Figure buildTrainingCurves(const ExperimentStore &store, const FigureRequest &request)
{
    Figure f;
    f.title = QStringLiteral("Training curves");
    f.csv = QStringLiteral("run,label,round,step,loss,lr\n");
    std::vector<RunRecord> runs;
    if (!request.runs.isEmpty()) {
        runs = fig::masksRuns(store, request, 0);
    } else {
        // The runs of one task (the newest trained run's model and task), oldest first, at most
        // eight; imported masks train nothing.
        const auto all = store.runs(); // newest first
        const auto newest =
            std::find_if(all.begin(), all.end(), [](const RunRecord &r) { return r.kind != RunKind::Import; });
        for (auto it = newest; it != all.end(); ++it)
            if (it->kind != RunKind::Import && it->task == newest->task && it->modelId == newest->modelId &&
                runs.size() < 8)
                runs.insert(runs.begin(), *it);
        if (!runs.empty())
            f.title += QStringLiteral(": ") + QString::fromStdString(runs.front().task);
    }
    if (runs.empty()) {
        f.note = QStringLiteral("No runs yet.");
        return f;
    }
    LinePanel loss, lr;
    loss.title = QStringLiteral("Training loss");
    loss.xLabel = QStringLiteral("Step (rounds one after another)");
    loss.yLabel = QStringLiteral("Loss");
    lr.title = QStringLiteral("Learning rate");
    lr.xLabel = loss.xLabel;
    lr.yLabel = QStringLiteral("Learning rate");
    for (const RunRecord &run : runs) {
        // Rounds are laid end to end: each round's steps start where the previous ended.
        std::map<int, std::vector<CurvePoint>> byRound;
        for (const CurvePoint &p : store.curve(run.id))
            if (request.round < 0 || p.round == request.round)
                byRound[p.round].push_back(p);
        LineSeries ls, rs;
        ls.name = fig::runLabel(run);
        ls.markers = false;
        rs.name = ls.name;
        rs.markers = false;
        double offset = 0;
        for (const auto &[round, points] : byRound) {
            double last = 0;
            for (const CurvePoint &p : points) {
                const double x = offset + double(p.step);
                if (std::isfinite(p.loss)) {
                    ls.x.push_back(x);
                    ls.y.push_back(p.loss);
                }
                rs.x.push_back(x);
                rs.y.push_back(p.lr);
                last = double(p.step);
                f.csv += fig::csvRow({QString::number(run.id), fig::runLabel(run), QString::number(round),
                                      QString::number(p.step), fig::csvNumber(p.loss), fig::csvNumber(p.lr)});
            }
            offset += last;
        }
        if (rs.x.empty() && request.runs.isEmpty())
            continue; // a default run that logged no curve (a transfer evaluated only)
        loss.series.push_back(std::move(ls));
        lr.series.push_back(std::move(rs));
    }
    if (loss.series.empty()) {
        f.note = QStringLiteral("No training curves yet.");
        return f;
    }
    f.lines.push_back(std::move(loss));
    f.lines.push_back(std::move(lr));
    return f;
}

} // namespace tl::ui

#pragma once

// Internal to plots/: one builder per figure (each in its own file) and the helpers they share.

#include <optional>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "plots/figure.h"
#include "store/experiment_store.h"

namespace tl::ui {

Figure buildSparsityHeatmap(const ExperimentStore &store, const FigureRequest &request);
Figure buildSparsityRounds(const ExperimentStore &store, const FigureRequest &request);
Figure buildHeadSurvival(const ExperimentStore &store, const FigureRequest &request);
Figure buildMetricVsSparsity(const ExperimentStore &store, const FigureRequest &request);
Figure buildOverlapMatrix(const ExperimentStore &store, const FigureRequest &request);
Figure buildTransferMatrix(const ExperimentStore &store, const FigureRequest &request);
Figure buildTrainingCurves(const ExperimentStore &store, const FigureRequest &request);
Figure buildWeightHistogram(const ExperimentStore &store, const FigureRequest &request);
Figure buildEarlyBird(const ExperimentStore &store, const FigureRequest &request);
Figure buildSensitivity(const ExperimentStore &store, const FigureRequest &request);
Figure buildSuperSurvivors(const ExperimentStore &store, const FigureRequest &request);
Figure buildHeadImportance(const ExperimentStore &store, const FigureRequest &request);
Figure buildHeadStability(const ExperimentStore &store, const FigureRequest &request);

/// The layers x heads panel of one run (also used to time redraws of large shapes).
HeatmapPanel headSurvivalPanel(const std::vector<HeadSurvival> &heads, const QString &title, double threshold);

namespace fig {

/// tl::runLabel(): "sentiment imp #3 (seed 0)".
QString runLabel(const RunRecord &run);
/// A mask panel's title: "sentiment imp #3 (seed 0), round 4 (40.0% pruned)".
QString maskTitle(const RunRecord &run, int round, const MaskSet &mask);
/// The requested runs (each must exist: tl::Error otherwise), or, when none were requested,
/// up to `fallbackCount` runs with stored masks: the newest finished IMP run first, then one of
/// every other kind in turn (random, reinit, transfer, import, ...), finished before unfinished.
std::vector<RunRecord> masksRuns(const ExperimentStore &store, const FigureRequest &request, int fallbackCount);
/// request.round when >= 0 (must be within the run's stored rounds: tl::Error otherwise), else
/// the run's last stored mask round.
int roundFor(const ExperimentStore &store, const RunRecord &run, int requested);
/// One CSV line (tl::csvRow(): fields quoted when needed).
QString csvRow(const QStringList &fields);
/// A number for CSV: 10 significant digits, empty for NaN.
QString csvNumber(double v);
/// LaTeX-escaped text for booktabs tables.
QString latexText(const QString &s);

} // namespace fig
} // namespace tl::ui

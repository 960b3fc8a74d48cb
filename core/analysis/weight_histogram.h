#pragma once

// Weight distributions (torch-free): |θ0| of the weights a mask keeps against those it prunes,
// per matrix type and overall, on a log scale; and how much of the mask one-shot global
// magnitude pruning of θ0 at the same sparsity would reproduce. Answers whether IMP's ticket
// is magnitude pruning of the pre-trained weights in disguise (compare the oneshot baseline).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "io/model_folder.h"
#include "prune/mask_set.h"
#include "store/experiment_store.h"

namespace tl {

/// Counts per bin of log10|θ| (bins shared by every row, WeightHistograms::edges), of the
/// kept and of the pruned weights; exact zeros have no logarithm and are counted apart.
struct WeightHistogram
{
    MatrixType type = MatrixType::Other; ///< Other for the overall row
    std::vector<int64_t> kept, pruned;
    int64_t keptZeros = 0, prunedZeros = 0;
    int64_t keptCount = 0, prunedCount = 0;
    double keptMeanAbs = 0, prunedMeanAbs = 0;
};

struct WeightHistograms
{
    std::vector<double> edges; ///< log10|θ|, bins + 1 of them, increasing
    WeightHistogram overall;
    std::vector<WeightHistogram> byType; ///< types present, display order
    /// Of the weights the mask keeps, the fraction one-shot global magnitude pruning of these
    /// weights to the same number kept would keep too (1 = the mask is magnitude pruning of
    /// θ0), and what a random mask of the same density would score (its density).
    double magnitudeAgreement = 0;
    double chanceAgreement = 0;
};

/// weights: by parameter name, each the shape of the mask's tensor (tl::Error naming the
/// parameter when absent or of another size). bins >= 1.
WeightHistograms weightHistograms(const MaskSet &mask, const std::map<std::string, FloatTensor> &weights,
                                  int bins = 60);

/// The same for a stored run and round, against the pre-trained weights of the run's model
/// (its model folder, read torch-free). tl::Error when the folder is not on this machine.
WeightHistograms storedWeightHistograms(const ExperimentStore &store, int64_t runId, int round, int bins = 60);

} // namespace tl

#include "analysis/weight_histogram.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "util/error.h"

namespace tl {

WeightHistograms weightHistograms(const MaskSet &mask, const std::map<std::string, FloatTensor> &weights, int bins)
{
    if (bins < 1)
        throw Error("weight histogram: bins must be at least 1, got " + std::to_string(bins));
    std::vector<const std::vector<float> *> values;
    for (const MaskTensor &t : mask.tensors) {
        const auto it = weights.find(t.name);
        if (it == weights.end())
            throw Error("weight histogram: no weights for parameter '" + t.name + "'");
        if (it->second.values.size() != t.keep.size())
            throw Error("weight histogram: parameter '" + t.name + "' has " + std::to_string(it->second.values.size()) +
                        " weights but its mask " + std::to_string(t.keep.size()) + " (" + shapeToString(t.shape) + ")");
        values.push_back(&it->second.values);
    }
    // Shared edges: the range of log10|θ| over every nonzero weight.
    double lo = INFINITY, hi = -INFINITY;
    for (const auto *v : values)
        for (float w : *v)
            if (w != 0.0f && std::isfinite(w)) {
                const double l = std::log10(std::abs(double(w)));
                lo = std::min(lo, l);
                hi = std::max(hi, l);
            }
    if (!std::isfinite(lo)) {
        lo = -1;
        hi = 0;
    } else if (hi - lo < 1e-9) {
        lo -= 0.5;
        hi += 0.5;
    }
    WeightHistograms out;
    for (int b = 0; b <= bins; ++b)
        out.edges.push_back(lo + (hi - lo) * double(b) / double(bins));

    const auto fresh = [bins](MatrixType type) {
        WeightHistogram h;
        h.type = type;
        h.kept.assign(size_t(bins), 0);
        h.pruned.assign(size_t(bins), 0);
        return h;
    };
    out.overall = fresh(MatrixType::Other);
    std::map<MatrixType, WeightHistogram> byType;
    std::vector<float> magnitudes; // every |w|, reordered by the one-shot threshold's nth_element
    magnitudes.reserve(size_t(mask.total()));
    for (size_t t = 0; t < mask.tensors.size(); ++t) {
        const MaskTensor &m = mask.tensors[t];
        const MatrixType type = locateParam(m.name).type;
        auto [it, added] = byType.try_emplace(type, fresh(type));
        WeightHistogram &h = it->second;
        for (size_t i = 0; i < m.keep.size(); ++i) {
            const float w = (*values[t])[i];
            const double a = std::abs(double(w));
            magnitudes.push_back(float(a));
            const bool keep = m.keep[i] != 0;
            for (WeightHistogram *x : {&h, &out.overall}) {
                (keep ? x->keptCount : x->prunedCount) += 1;
                (keep ? x->keptMeanAbs : x->prunedMeanAbs) += a;
                if (a == 0 || !std::isfinite(a)) {
                    (keep ? x->keptZeros : x->prunedZeros) += 1;
                    continue;
                }
                const int b = std::clamp(int((std::log10(a) - lo) / (hi - lo) * bins), 0, bins - 1);
                (keep ? x->kept : x->pruned)[size_t(b)] += 1;
            }
        }
    }
    for (auto &[type, h] : byType)
        out.byType.push_back(std::move(h));
    const auto finishMeans = [](WeightHistogram &h) {
        h.keptMeanAbs = h.keptCount ? h.keptMeanAbs / double(h.keptCount) : 0.0;
        h.prunedMeanAbs = h.prunedCount ? h.prunedMeanAbs / double(h.prunedCount) : 0.0;
    };
    finishMeans(out.overall);
    for (WeightHistogram &h : out.byType)
        finishMeans(h);

    // One-shot global magnitude pruning of θ0 keeping as many weights as the mask: the k
    // largest |θ|. Ties at the threshold count as kept by both only as far as k allows.
    const int64_t k = mask.kept(), n = int64_t(magnitudes.size());
    if (k > 0 && n > 0) {
        // One copy of the |w| (BERT-base: 85M), partitioned in place; the pass below reads the
        // weights themselves again.
        std::nth_element(magnitudes.begin(), magnitudes.begin() + (n - k), magnitudes.end());
        const float threshold = magnitudes[size_t(n - k)];
        const int64_t above = std::count_if(magnitudes.begin() + (n - k), magnitudes.end(),
                                            [threshold](float a) { return a > threshold; });
        const int64_t tieBudget = k - above; // weights equal to the threshold that the one-shot mask keeps
        int64_t agree = 0, ties = 0;
        for (size_t t = 0; t < mask.tensors.size(); ++t) {
            const MaskTensor &m = mask.tensors[t];
            for (size_t i = 0; i < m.keep.size(); ++i) {
                if (!m.keep[i])
                    continue;
                const float a = float(std::abs(double((*values[t])[i])));
                if (a > threshold)
                    ++agree;
                else if (a == threshold)
                    ++ties;
            }
        }
        agree += std::min(ties, tieBudget);
        out.magnitudeAgreement = double(agree) / double(k);
        out.chanceAgreement = double(k) / double(n);
    }
    return out;
}

WeightHistograms storedWeightHistograms(const ExperimentStore &store, int64_t runId, int round, int bins)
{
    const RunRecord run = store.requireRun(runId);
    const auto model = run.modelId ? store.model(run.modelId) : std::nullopt;
    if (!model)
        throw Error(store.path() + ": run " + std::to_string(runId) + " records no model to read θ0 from");
    if (!std::filesystem::is_directory(model->path))
        throw Error(store.path() + ": the model of run " + std::to_string(runId) + ", " + model->path +
                    ", is not on this machine (θ0 is read from it)");
    const MaskSet mask = storedMask(store, runId, round);
    std::set<std::string> names;
    for (const MaskTensor &t : mask.tensors)
        names.insert(t.name);
    const auto weights = readWeightsFile(findWeightsFile(model->path),
                                         [&names](const std::string &name) { return names.count(name) > 0; });
    return weightHistograms(mask, weights, bins);
}

} // namespace tl

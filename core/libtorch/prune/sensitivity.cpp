#include "libtorch/prune/sensitivity.h"

#include <algorithm>
#include <cmath>

#include "libtorch/prune/pruner.h"
#include "libtorch/train/finetune.h"
#include "util/error.h"

namespace tl {

namespace {

double metricOf(const std::map<std::string, double> &metrics, const std::string &name)
{
    const auto it = metrics.find(name);
    if (it == metrics.end()) {
        std::string known;
        for (const auto &[k, v] : metrics)
            known += (known.empty() ? "" : ", ") + k;
        throw Error("unknown metric '" + name + "' (this task reports " + known + ")");
    }
    return it->second;
}

} // namespace

SensitivityScan sensitivityScan(BertNet &net, const BertTokenizer &tokenizer, const TaskSpec &task,
                                const std::vector<Example> &dev, const std::vector<double> &sparsities,
                                const std::string &metric, int maxSeqLen, int batchSize, const torch::Device &device,
                                const std::function<void(int, int)> &progress)
{
    for (double s : sparsities)
        if (!(s >= 0 && s <= 1))
            throw Error("sensitivity: sparsity " + std::to_string(s) + " is outside [0, 1]");
    SensitivityScan scan;
    scan.metric = metric;
    scan.sparsities = sparsities;
    scan.examples = static_cast<int64_t>(dev.size());
    scan.baseline = metricOf(evaluateTask(net, tokenizer, task, dev, maxSeqLen, batchSize, device), metric);

    // The encoder's matrices by (layer, display order of type).
    struct Target
    {
        int layer;
        MatrixType type;
        torch::Tensor weight;
    };
    std::vector<Target> targets;
    for (auto &[name, w] : prunableParameters(net, false, false)) {
        const ParamLocation at = locateParam(name);
        if (at.layer >= 0)
            targets.push_back({at.layer, at.type, w});
    }
    const auto &order = encoderMatrixTypes();
    const auto rank = [&order](MatrixType t) { return std::find(order.begin(), order.end(), t) - order.begin(); };
    std::stable_sort(targets.begin(), targets.end(), [&rank](const Target &a, const Target &b) {
        return a.layer != b.layer ? a.layer < b.layer : rank(a.type) < rank(b.type);
    });

    const int total = int(targets.size() * sparsities.size());
    int done = 0;
    torch::NoGradGuard noGrad;
    for (Target &t : targets) {
        const torch::Tensor original = t.weight.detach().clone();
        const int64_t n = original.numel();
        // Ascending |w|, ties by position: the first k are the ones a magnitude prune removes.
        const torch::Tensor byMagnitude = std::get<1>(original.abs().flatten().sort(/*stable=*/true, 0, false));
        for (double s : sparsities) {
            const int64_t k = std::llround(s * double(n));
            torch::Tensor flat = t.weight.view({-1});
            if (k > 0)
                flat.index_fill_(0, byMagnitude.slice(0, 0, k), 0.0);
            const double value =
                metricOf(evaluateTask(net, tokenizer, task, dev, maxSeqLen, batchSize, device), metric);
            t.weight.copy_(original);
            scan.cells.push_back({t.layer, t.type, s, value, scan.baseline - value});
            if (progress)
                progress(++done, total);
        }
    }
    return scan;
}

} // namespace tl

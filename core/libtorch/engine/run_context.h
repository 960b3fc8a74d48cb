#pragma once

// The model, data and weight snapshots that one seed of a run works on (LibTorch side of
// the runner; only core/engine includes this).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "engine/run_spec.h"
#include "libtorch/model/bert.h"
#include "libtorch/prune/head_importance.h"
#include "store/experiment_store.h"
#include "text/tasks.h"
#include "text/tokenizer.h"
#include "libtorch/train/mlm.h"

namespace tl {

struct MaskSet;

struct TrainProgressLite
{
    int64_t step = 0, totalSteps = 0;
    double loss = 0, lr = 0, tokensPerSecond = 0, etaSeconds = 0;
    bool tick = false; ///< no new numbers: sent after every step only to ask whether to go on
};

struct RoundResult
{
    std::map<std::string, double> dev, train;
    int64_t steps = 0;
    double trainSeconds = 0, evalSeconds = 0;
    std::vector<std::tuple<int64_t, double, double>> curve; ///< (step, loss, lr)
    std::vector<std::pair<int64_t, double>> maskDistances;  ///< early bird: (step, distance to the previous draw)
    int64_t earlyBirdStep = 0;                              ///< the step the early-bird rule ended training; 0: never
    bool cancelled = false;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

class RunContext
{
public:
    explicit RunContext(const RunSpec &spec);

    /// Reads the task data and the model, and snapshots θ0 and the seeded task-head initialisation.
    void prepare(uint64_t seed);
    std::string taskName() const { return m_mlm ? std::string("mlm") : m_task.name; }
    ModelRecord modelRecord() const;
    DatasetRecord datasetRecord() const;

    const BertConfig &config() const { return m_net->config; }
    /// Head (and, for heads_and_neurons, neuron) importance of the network as it is now, on the
    /// spec's importance examples (prune.importance_split, prune.importance_examples).
    UnitImportance unitImportance();
    /// The live prunable parameters of the model.
    const NamedTensors &prunable() const { return m_prunable; }
    /// Copies of θ0's prunable parameters (one-shot pruning of the pre-trained weights).
    const NamedTensors &pretrainedPrunable() const { return m_theta0Prunable; }

    /// Every parameter but the task head back to θ0, or to the rewind step's weights.
    void restorePretrained(const RewindSpec &rewind);
    void reinitialisePrunable(uint64_t seed);
    void shufflePrunable(uint64_t seed);
    void resetHead();
    void saveHead(const std::string &path);
    void loadHead(const std::string &path);
    /// Where round 0 keeps the rewind step's weights, so a resumed run rewinds to the same point.
    void setRewindFile(const std::string &path) { m_rewindFile = path; }

    /// Trains the masked network from its current weights with the spec's schedule and
    /// evaluates it on dev. Pruned weights stay exactly 0. With the spec's early_bird and a
    /// drawNextMask (the mask the next prune would make from the live weights), draws it at
    /// the spec's interval, records each distance to the previous draw and, when the rule
    /// settles, ends training there.
    RoundResult trainRound(const MaskSet &mask, uint64_t seed, bool firstRound,
                           const std::function<bool(const TrainProgressLite &)> &progress,
                           const std::function<MaskSet()> &drawNextMask = {});

    // Standard pruning: the fine-tuned dense weights of round 0, kept on disk for resume.
    void keepFineTunedWeights(const std::string &path);
    void ensureFineTunedWeights(const std::string &path, uint64_t seed);
    const NamedTensors &fineTunedWeights() const { return m_fineTuned; }

private:
    NamedTensors headParameters();

    const RunSpec &m_spec;
    bool m_mlm = false;
    TaskSpec m_task;
    std::vector<Example> m_train, m_dev;
    MlmCorpus m_corpus;
    std::optional<BertTokenizer> m_tokenizer;
    BertNet m_net{nullptr};
    NamedTensors m_prunable, m_theta0Prunable, m_fineTuned;
    std::map<std::string, torch::Tensor> m_theta0, m_headInit, m_rewind;
    std::string m_rewindFile;
    std::string m_modelHash, m_dataHash;
};

} // namespace tl

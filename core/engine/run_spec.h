#pragma once

// The run spec: one JSON file describing one experiment (a lottery-ticket search or one of the
// paper's baselines). Torch-free, so the GUI and the CLI can read and validate specs without
// the engine.
//
// ```json
// {
//   "model": "path/to/hf-folder", "task": "RTE", "data_dir": "path/to/RTE",
//   "kind": "imp",
//   "prune": {"method": "global_magnitude", "schedule": "linear", "step": 0.1, "rounds": 3, "target_sparsity": null,
//             "include_pooler": true, "include_embeddings": false},
//   "rewind": "pretrained",
//   "head": "keep",
//   "train": {"epochs": 1, "max_steps": null, "lr": 2e-5, "batch_size": 32, "max_seq_len": 128, "warmup": 0.0,
//             "weight_decay": 0.01, "eval_batch_size": 64},
//   "seeds": [0], "threads": 2, "device": "cpu",
//   "criterion": "within_std",
//   "source": {"run": 12, "round": 5}
// }
// ```
//
// Required: model, task, data_dir. Every other field is optional and takes the default shown
// by `RunSpec` below. Fields:
// - model: a Hugging Face BERT folder. data_dir: the task's data folder.
// - task: a GLUE task or generic / generic-regression (case-insensitive, see taskByName), or
//   "mlm" (masked-LM on a folder of text). Stored under its canonical spelling ("rte" -> "RTE").
// - kind: imp (iterative magnitude pruning with rewinding), full (the unpruned model; needs no
//   prune section, and one given is validated but ignored), random, reinit, shuffle, standard,
//   oneshot (prunes once to each sparsity of the schedule, each directly from the pre-trained
//   weights, so it yields the same sparsity list as imp), transfer (reuses a mask found
//   elsewhere: needs `source`).
// - prune.method: global_magnitude, tensor_magnitude, global_random, tensor_random, or the
//   structured heads (whole attention heads: their Q/K/V rows and attention-output columns) and
//   heads_and_neurons (heads and FFN neurons: FFN-in rows, FFN-out columns), for kinds imp and
//   random (reinit, shuffle and transfer follow their masks; oneshot and standard refuse them).
//   A structured imp run scores head (and neuron) importance as Michel et al. 2019 on the
//   round's trained network after each round (prune.importance_split "train" or "dev",
//   prune.importance_examples, default the first 512 training examples; both absent from
//   toJson() for other methods) and removes the least important globally; a random run removes
//   random ones at the same counts. The schedule's sparsities are then the fraction of heads
//   (and of neurons) removed after each round; the stored round sparsity stays the fraction of
//   prunable weights removed. Not with task mlm.
// - prune.schedule and prune.step (in (0, 1)): the sparsity (fraction of the prunable weights
//   removed) after round r = 1, 2, ...
//     linear:    min(r * step, 1) of the ORIGINAL count: 10%, 20%, ..., 90% for step 0.1
//                (BERT-Tickets' code);
//     geometric: each round removes `step` of the REMAINING weights: 1 - (1 - step)^r
//                (the paper's text, open_lth).
// - When to stop: prune.rounds (a positive integer, at most 1000) or prune.target_sparsity (in
//   (0, 1): rounds continue until the sparsity reaches the target, the last one clamped to
//   exactly the target), not both. Given neither, rounds is the fewest that bring the schedule
//   to 90% sparsity: 9 for linear 0.1 (as BERT-Tickets), 11 for geometric 0.2 (91.4%). A
//   schedule that stops growing (linear past 100%) is an error.
// - prune.include_pooler / include_embeddings: whether the pooler and the embedding matrices
//   are prunable.
// - rewind: "pretrained" (the paper: back to the pre-trained weights) or {"step": k}, k >= 0,
//   to the weights after k steps of fine-tuning.
// - head: "keep" (the task head keeps its trained weights across rounds, as BERT-Tickets) or
//   "reinit" (a fresh head every round).
// - train: fine-tuning of each round. epochs >= 1; max_steps null or a positive cap on the
//   optimizer steps of each round; lr > 0; batch_size, eval_batch_size >= 1; max_seq_len >= 3;
//   warmup in [0, 1) (fraction of the steps); weight_decay >= 0.
// - seeds: non-empty array of distinct non-negative integers; each seed is a separate run.
// - threads: LibTorch intra-op threads, >= 0 (0: the library default; each run records the
//   count it actually used, and a resumed run keeps it). device: "cpu", "cuda" or "cuda:N".
// - criterion: when a subnetwork counts as a winning ticket. "within_std" (the paper: its mean
//   over seeds lies within one standard deviation of the full model's mean) or "match" (its
//   mean >= the full model's mean).
// - source: required for kinds transfer, reinit and shuffle, forbidden otherwise (null is
//   accepted as absent). transfer: {"run": id, "round": k} (the mask of round k of a stored
//   run; id >= 1, k >= 0) or {"mask_file": "path"}. reinit / shuffle: {"run": id} only: they
//   train every round of that run (which must be an imp run, checked when the run starts) with
//   its masks, so a "round" is an error.
// - at: baselines only (random, reinit, shuffle, standard, oneshot): an array of sparsities in
//   (0, 1); the run trains only the round nearest each (round 0 too for standard, which prunes
//   its fine-tuned weights), computing the masks of the rounds between exactly as a full run
//   would. A comparison at 50/60/70% then costs three rounds, not ten. Absent from toJson()
//   when empty.
// - early_bird: imp only, {"every": n, "epsilon": e, "window": w, "stop": true} (every field
//   optional). While a round that has a next prune trains, the magnitude mask that prune would
//   make is drawn every n optimizer steps (every: 0 or absent = each 10% of the round's
//   schedule), and its distance to the previous draw (the fraction of prunable weights that
//   differ) is stored with the round's curve. With stop (default true) the round ends as soon
//   as the last `window` (default 3, >= 1) distances are all below epsilon (default 0.1, in
//   (0, 1]) and prunes there (You et al. 2020, EarlyBERT): its step is recorded, its dev metric
//   is measured where it stopped. The last round (no next prune) always trains in full: it is
//   the ticket to compare with full-length IMP. stop false only records the distances; the run
//   then trains exactly as without early_bird. Absent from toJson() when not given.
// - repeat: 0 (default), or k >= 1 for the k-th explicit repetition of the spec (`run
//   --repeat k`): another identity, so it neither reuses nor resumes the spec's own runs, and
//   is itself resumed when run again. Absent from toJson() when 0.
//
// Validation is strict: an unknown field at any level, a wrong type or an impossible value
// throws tl::Error "SOURCE: field 'prune.step': reason", naming the full field path. Paths are
// not checked for existence here (the engine does that). RunSpec::load resolves relative
// model, data_dir and source.mask_file against the folder of the spec file, so a spec can sit
// beside its data and be run from anywhere.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/run_kinds.h"

namespace tl {

struct PruneSpec
{
    std::string method = "global_magnitude";
    std::string schedule = "linear";
    double step = 0.1;
    int rounds = 0;            ///< 0: not given (then targetSparsity, or the 90% default)
    double targetSparsity = 0; ///< 0: not given
    bool includePooler = true;
    bool includeEmbeddings = false;
    /// Structured methods: the examples head (and neuron) importance is scored on after each
    /// round, the first importanceExamples of the task's train or dev split.
    std::string importanceSplit = "train";
    int importanceExamples = 512;

    /// heads or heads_and_neurons: whole heads (and FFN neurons) are pruned, and the schedule's
    /// sparsities are fractions of the heads (and of the neurons) removed.
    bool structured() const { return method == "heads" || method == "heads_and_neurons"; }
    bool prunesNeurons() const { return method == "heads_and_neurons"; }

    /// Sparsity (fraction) after rounds 1..R, in order. Throws tl::Error for a step outside
    /// (0, 1) or a schedule that would need more than kMaxRounds rounds.
    std::vector<double> sparsities() const;
    int numRounds() const { return static_cast<int>(sparsities().size()); }
    /// Rounds used when neither rounds nor targetSparsity is given: the fewest that reach 90%.
    int defaultRounds() const;

    static constexpr int kMaxRounds = 1000;
};

struct RewindSpec
{
    bool pretrained = true; ///< false: rewind to the weights after `step` fine-tuning steps
    int64_t step = 0;
};

struct TrainSpec
{
    int epochs = 1;
    int64_t maxSteps = -1; ///< -1: no cap
    double lr = 2e-5;
    int batchSize = 32;
    int maxSeqLen = 128;
    int evalBatchSize = 64;
    double warmup = 0;
    double weightDecay = 0.01;
};

struct EarlyBirdSpec
{
    int64_t every = 0; ///< steps between draws; 0: each 10% of the round's schedule
    double epsilon = 0.1;
    int window = 3;
    bool stop = true;

    /// The draw interval for a round of totalSteps optimizer steps (at least 1).
    int64_t interval(int64_t totalSteps) const;
    /// The early-bird rule: true when stop is set and the last `window` distances (in draw
    /// order) are all below epsilon. The one place the criterion is defined.
    bool settled(const std::vector<double> &distances) const;
};

struct SourceSpec
{
    int64_t run = 0;
    int round = 0;
    std::string maskFile; ///< non-empty: the mask comes from this file, not from a stored run
    /// Non-empty: the source is the finished run of this spec hash and seed in the database the
    /// run writes to, found when the run starts (studies name sources so, never by an id).
    std::string specHash;
    uint64_t seed = 0;
    bool fromFile() const { return !maskFile.empty(); }
    bool bySpec() const { return !specHash.empty(); }
};

struct RunSpec
{
    std::string model;
    std::string task; ///< canonical spelling, or "mlm"
    std::string dataDir;
    RunKind kind = RunKind::Imp;
    std::string head = "keep";
    std::string criterion = "within_std";
    std::string device = "cpu";
    PruneSpec prune; ///< reset to defaults for kind full, where it is ignored
    RewindSpec rewind;
    TrainSpec train;
    std::vector<uint64_t> seeds{0};
    int threads = 0;
    std::optional<SourceSpec> source;
    int repeat = 0; ///< 0, or k >= 1: the k-th explicit repetition (another identity, see hash())
    /// Baselines only (random, reinit, shuffle, standard, oneshot): train just the rounds whose
    /// sparsity is nearest each of these (sorted), instead of every round; empty: every round.
    std::vector<double> at;
    /// imp only: draw the next prune's mask during training and stop a round early once it settles.
    std::optional<EarlyBirdSpec> earlyBird;
    static constexpr int kMaxRepeat = 1000000;

    /// Strict parse; sourceName prefixes every error message. Fills in defaults, including
    /// prune.rounds when neither rounds nor target_sparsity is given.
    static RunSpec fromJson(const nlohmann::json &json, const std::string &sourceName);
    /// Reads and parses a spec file, resolving relative paths against its folder (absolute result).
    static RunSpec load(const std::string &path);
    /// Canonical form: every field with defaults filled in ("prune" and "source" null when
    /// they do not apply), keys sorted. fromJson(toJson()) gives the same spec back.
    nlohmann::json toJson() const;
    /// Identifies the experiment for resume: 64-bit FNV-1a of the canonical JSON as 16 lowercase
    /// hex digits. Covers everything that changes results, threads and device included (CPU
    /// results depend on the thread count), and the repetition index, but not `seeds`: each
    /// seed is its own run, which the caller identifies by this hash together with the seed.
    std::string hash() const;
};

/// The spec that fine-tunes the mask of round `round` of stored run `sourceRun` (run from spec
/// `source`) on `task`, with that task's data in `dataDir`: the source's model (or `model` when
/// given), fine-tuning settings, seeds, threads and device; kind transfer, no prune section, no
/// repetition. The CLI's `transfer` and the desktop app's "Transfer mask" both build it here.
/// Paths are made absolute. Throws tl::Error naming the field at fault (an unknown task, say).
RunSpec transferSpec(const RunSpec &source, int64_t sourceRun, int round, const std::string &task,
                     const std::string &dataDir, const std::string &model = {});

/// The masked-LM task's name, as specs, studies and the store spell it.
inline constexpr const char *kMlmTask = "mlm";

/// A run's task as stored: a GLUE-format task's canonical spelling ("rte" -> "RTE", via
/// taskByName()) or kMlmTask in any case. Throws tl::Error listing the known tasks and mlm.
std::string canonicalRunTask(const std::string &name);

/// 64-bit FNV-1a of bytes as 16 lowercase hex digits (also for callers hashing hash() + seed).
std::string fnv1aHex(const std::string &bytes);

} // namespace tl

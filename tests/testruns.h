#pragma once

// The one way tests put runs with rounds into an experiment store: through the store's API,
// without training.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "prune/prune_order.h"
#include "store/experiment_store.h"

namespace tltest {

/// A run to store: its record, its rounds, its prune order; create() writes it. Each round's
/// dev metrics hold the round's metric under every name of metricNames() ("main" unless set),
/// plus extraMetrics().
class RunBuilder
{
public:
    RunBuilder(tl::RunKind kind, std::string task, uint64_t seed = 0)
    {
        m_run.kind = kind;
        m_run.task = std::move(task);
        m_run.seed = seed;
        m_run.specJson = "{}";
        m_run.device = "cpu";
        m_run.threads = 2;
    }

    RunBuilder &model(int64_t id)
    {
        m_run.modelId = id;
        return *this;
    }
    RunBuilder &dataset(int64_t id)
    {
        m_run.datasetId = id;
        return *this;
    }
    /// The spec (JSON text) and its hash; without, "{}" and a hash of its own for each run.
    RunBuilder &spec(std::string json, std::string hash)
    {
        m_run.specJson = std::move(json);
        m_run.specHash = std::move(hash);
        return *this;
    }
    /// The status once the rounds are in ("done" unless set; "running" leaves it as created).
    RunBuilder &status(std::string status)
    {
        m_status = std::move(status);
        return *this;
    }
    RunBuilder &metricNames(std::vector<std::string> names)
    {
        m_metricNames = std::move(names);
        return *this;
    }
    RunBuilder &extraMetrics(std::map<std::string, double> metrics)
    {
        m_extra = std::move(metrics);
        return *this;
    }
    /// Committed with every round (a run's prune order holds the masks of all its rounds).
    RunBuilder &order(tl::PruneOrder order)
    {
        m_order = std::move(order);
        return *this;
    }
    /// Each round gets `steps` training steps: a curve (loss 1/step + round / 10, the learning
    /// rate decaying to 0), steps, and a train loss of 0.5.
    RunBuilder &curve(int steps)
    {
        m_curveSteps = steps;
        return *this;
    }
    /// A transfer's provenance: round `round` of run `sourceRun` (0: the mask file).
    RunBuilder &transferFrom(int64_t sourceRun, int round, std::string maskFile = {})
    {
        m_transfer = tl::TransferRecord{0, sourceRun, round, m_run.task, std::move(maskFile)};
        return *this;
    }
    RunBuilder &round(int round, double sparsity, double metric)
    {
        m_rounds.push_back({round, sparsity, metric});
        return *this;
    }
    /// Rounds 0, 1, ... at these (sparsity, metric) pairs.
    RunBuilder &rounds(const std::vector<std::pair<double, double>> &sparsityAndMetric)
    {
        for (const auto &[sparsity, metric] : sparsityAndMetric)
            round(int(m_rounds.size()), sparsity, metric);
        return *this;
    }

    /// The record create() stores (specHash filled in).
    tl::RunRecord record() const
    {
        tl::RunRecord r = m_run;
        if (r.specHash.empty())
            r.specHash = "test-" + tl::runKindName(r.kind) + "-" + r.task + "-" + std::to_string(++counter());
        return r;
    }

    /// Creates the run, commits its rounds (and transfer record), sets its status; its id.
    int64_t create(tl::ExperimentStore &store) const
    {
        tl::RunRecord r = record();
        r.status = "running";
        const int64_t id = store.createRun(r);
        if (m_transfer) {
            tl::TransferRecord t = *m_transfer;
            t.runId = id;
            store.recordTransfer(t);
        }
        const std::optional<std::vector<char>> blob =
            m_order ? std::optional<std::vector<char>>(tl::encodePruneOrder(*m_order)) : std::nullopt;
        for (const Round &x : m_rounds) {
            tl::RoundRecord rr;
            rr.runId = id;
            rr.round = x.round;
            rr.sparsity = x.sparsity;
            nlohmann::json dev(m_extra);
            for (const std::string &name : m_metricNames)
                dev[name] = x.metric;
            rr.devMetricsJson = dev.dump();
            std::vector<tl::CurvePoint> curve;
            if (m_curveSteps > 0) {
                rr.trainMetricsJson = R"({"loss": 0.5})";
                rr.steps = m_curveSteps;
                for (int s = 1; s <= m_curveSteps; ++s)
                    curve.push_back({x.round, s, 1.0 / s + x.round * 0.1, 1e-3 * (1.0 - double(s) / m_curveSteps)});
            }
            store.commitRound(rr, curve, blob ? &*blob : nullptr);
        }
        if (m_status != "running")
            store.setRunStatus(id, m_status);
        return id;
    }

private:
    struct Round
    {
        int round;
        double sparsity, metric;
    };
    static int &counter()
    {
        static int n = 0;
        return n;
    }

    tl::RunRecord m_run;
    std::string m_status = "done";
    std::vector<std::string> m_metricNames = {tl::kMainMetric};
    std::map<std::string, double> m_extra;
    std::optional<tl::PruneOrder> m_order;
    std::optional<tl::TransferRecord> m_transfer;
    int m_curveSteps = 0;
    std::vector<Round> m_rounds;
};

} // namespace tltest

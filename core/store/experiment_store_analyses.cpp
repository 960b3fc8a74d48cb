// ExperimentStore: early-bird mask distances and stored analyses (schema version 4).

#include "store/experiment_store.h"

#include <nlohmann/json.hpp>

#include "store/store_sql_p.h"

namespace tl {

using namespace storesql;

std::vector<MaskDistancePoint> ExperimentStore::maskDistances(int64_t runId) const
{
    Statement s(m_db, m_path, "maskDistances(run " + std::to_string(runId) + ")",
                "SELECT round, step, distance FROM mask_distances WHERE run_id = ?1 ORDER BY round, step, rowid");
    s.bind(1, runId);
    std::vector<MaskDistancePoint> out;
    while (s.step())
        out.push_back({static_cast<int>(s.int64(0)), s.int64(1), s.real(2)});
    return out;
}

int64_t ExperimentStore::addAnalysis(const AnalysisRecord &a)
{
    const std::string what = "addAnalysis(" + a.kind + ")";
    if (a.kind.empty())
        fail(m_path, what + ": no kind");
    for (const auto &[field, text] : {std::pair{"params", &a.paramsJson}, std::pair{"result", &a.resultJson}}) {
        const auto parsed = nlohmann::json::parse(*text, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_object())
            fail(m_path, what + ": " + field + " is not a JSON object");
    }
    Transaction tx(m_db, m_path, what);
    Statement(m_db, m_path, what,
              "INSERT INTO analyses(kind, name, model_id, dataset_id, task, params_json, result_json, run_id, round, "
              "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULLIF(?9, -1), " +
                  kNow + ")")
        .bind(1, a.kind)
        .bind(2, a.name)
        .bindId(3, a.modelId)
        .bindId(4, a.datasetId)
        .bind(5, a.task)
        .bind(6, a.paramsJson)
        .bind(7, a.resultJson)
        .bindId(8, a.runId)
        .bind(9, a.round)
        .run();
    const int64_t id = sqlite3_last_insert_rowid(m_db);
    tx.commit();
    return id;
}

int64_t ExperimentStore::addAnalysis(AnalysisRecord analysis, const ModelRecord &model, const DatasetRecord &data)
{
    int64_t id = 0;
    inTransaction("store a " + analysis.kind + " analysis", [&] {
        analysis.modelId = upsertModel(model);
        analysis.datasetId = upsertDataset(data);
        id = addAnalysis(analysis);
    });
    return id;
}

namespace {
const char *const kAnalysisColumns = "id, kind, name, coalesce(model_id, 0), coalesce(dataset_id, 0), task, "
                                     "coalesce(run_id, 0), coalesce(round, -1), params_json, result_json, created_at";
template <class S> AnalysisRecord readAnalysis(S &s)
{
    AnalysisRecord a;
    a.id = s.int64(0);
    a.kind = s.text(1);
    a.name = s.text(2);
    a.modelId = s.int64(3);
    a.datasetId = s.int64(4);
    a.task = s.text(5);
    a.runId = s.int64(6);
    a.round = static_cast<int>(s.int64(7));
    a.paramsJson = s.text(8);
    a.resultJson = s.text(9);
    a.createdAt = s.text(10);
    return a;
}

} // namespace

std::vector<AnalysisRecord> ExperimentStore::analyses(const std::string &kind) const
{
    Statement s(m_db, m_path, "analyses",
                std::string("SELECT ") + kAnalysisColumns +
                    " FROM analyses WHERE ?1 = '' OR kind = ?1 ORDER BY id DESC");
    s.bind(1, kind);
    std::vector<AnalysisRecord> out;
    while (s.step())
        out.push_back(readAnalysis(s));
    return out;
}

std::optional<AnalysisRecord> ExperimentStore::analysis(int64_t id) const
{
    Statement s(m_db, m_path, "analysis(" + std::to_string(id) + ")",
                std::string("SELECT ") + kAnalysisColumns + " FROM analyses WHERE id = ?1");
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    return readAnalysis(s);
}

std::vector<AnalysisRecord> ExperimentStore::runAnalyses(int64_t runId, const std::string &kind) const
{
    Statement s(m_db, m_path, "runAnalyses(run " + std::to_string(runId) + ")",
                std::string("SELECT ") + kAnalysisColumns +
                    " FROM analyses WHERE run_id = ?1 AND (?2 = '' OR kind = ?2) ORDER BY round, id");
    s.bind(1, runId);
    s.bind(2, kind);
    std::vector<AnalysisRecord> out;
    while (s.step())
        out.push_back(readAnalysis(s));
    return out;
}

void ExperimentStore::deleteRunAnalyses(int64_t runId, int round, const std::string &kind)
{
    Statement(m_db, m_path, "deleteRunAnalyses(run " + std::to_string(runId) + ")",
              "DELETE FROM analyses WHERE run_id = ?1 AND round = ?2 AND kind = ?3")
        .bind(1, runId)
        .bind(2, round)
        .bind(3, kind)
        .run();
}

} // namespace tl

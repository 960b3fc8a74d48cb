#include "analysis/sensitivity_data.h"

#include <algorithm>
#include <cmath>

#include "store/experiment_store.h"
#include "util/error.h"

namespace tl {

int SensitivityScan::layers() const
{
    int n = 0;
    for (const SensitivityCell &c : cells)
        n = std::max(n, c.layer + 1);
    return n;
}

const SensitivityCell *SensitivityScan::find(int layer, MatrixType type, double sparsity) const
{
    for (const SensitivityCell &c : cells)
        if (c.layer == layer && c.type == type && std::abs(c.sparsity - sparsity) < 1e-12)
            return &c;
    return nullptr;
}

nlohmann::json SensitivityScan::toJson() const
{
    nlohmann::json out = {{"metric", metric},
                          {"baseline", baseline},
                          {"sparsities", sparsities},
                          {"examples", examples},
                          {"cells", nlohmann::json::array()}};
    for (const SensitivityCell &c : cells)
        out["cells"].push_back({{"layer", c.layer},
                                {"type", matrixTypeName(c.type)},
                                {"sparsity", c.sparsity},
                                {"metric", c.metric},
                                {"drop", c.drop}});
    return out;
}

namespace {

double number(const nlohmann::json &j, const char *key, const std::string &where)
{
    if (!j.is_object() || !j.contains(key) || !j[key].is_number())
        throw Error(where + ": '" + key + "' is missing or not a number");
    return j[key].get<double>();
}

MatrixType typeByName(const std::string &name, const std::string &where)
{
    for (MatrixType t : encoderMatrixTypes())
        if (matrixTypeName(t) == name)
            return t;
    throw Error(where + ": unknown matrix type '" + name + "'");
}

} // namespace

SensitivityScan SensitivityScan::fromJson(const nlohmann::json &j, const std::string &source)
{
    SensitivityScan s;
    if (!j.is_object() || !j.contains("metric") || !j["metric"].is_string())
        throw Error(source + ": 'metric' is missing or not a string");
    s.metric = j["metric"].get<std::string>();
    s.baseline = number(j, "baseline", source);
    if (j.contains("examples") && j["examples"].is_number_integer())
        s.examples = j["examples"].get<int64_t>();
    if (!j.contains("sparsities") || !j["sparsities"].is_array())
        throw Error(source + ": 'sparsities' is missing or not an array");
    for (const auto &v : j["sparsities"]) {
        if (!v.is_number())
            throw Error(source + ": 'sparsities' holds " + v.dump() + ", not a number");
        s.sparsities.push_back(v.get<double>());
    }
    if (!j.contains("cells") || !j["cells"].is_array())
        throw Error(source + ": 'cells' is missing or not an array");
    for (size_t i = 0; i < j["cells"].size(); ++i) {
        const auto &c = j["cells"][i];
        const std::string where = source + ": cells[" + std::to_string(i) + "]";
        if (!c.is_object() || !c.contains("type") || !c["type"].is_string())
            throw Error(where + ": 'type' is missing or not a string");
        SensitivityCell cell;
        const double layer = number(c, "layer", where);
        if (!(layer >= 0 && layer < 10000) || layer != std::floor(layer))
            throw Error(where + ": 'layer' must be a layer index, got " + c["layer"].dump());
        cell.layer = static_cast<int>(layer);
        cell.type = typeByName(c["type"].get<std::string>(), where);
        cell.sparsity = number(c, "sparsity", where);
        cell.metric = number(c, "metric", where);
        cell.drop = number(c, "drop", where);
        s.cells.push_back(cell);
    }
    return s;
}

int64_t storeSensitivityScan(ExperimentStore &store, const SensitivityScan &scan, const ModelRecord &model,
                             const DatasetRecord &data, const std::string &task, const std::string &name)
{
    AnalysisRecord a;
    a.kind = kSensitivityAnalysis;
    a.name = name;
    a.task = task;
    a.paramsJson = nlohmann::json{{"sparsities", scan.sparsities}, {"metric", scan.metric}}.dump();
    a.resultJson = scan.toJson().dump();
    return store.addAnalysis(a, model, data);
}

StoredSensitivity storedSensitivity(const ExperimentStore &store, int64_t id, const std::string &task)
{
    std::optional<AnalysisRecord> found;
    if (id > 0) {
        found = store.analysis(id);
        if (!found || found->kind != kSensitivityAnalysis)
            throw Error(store.path() + ": no sensitivity scan " + std::to_string(id));
    } else {
        for (const AnalysisRecord &a : store.analyses(kSensitivityAnalysis))
            if (task.empty() || a.task == task) {
                found = a;
                break;
            }
        if (!found)
            throw Error(store.path() + ": no sensitivity scan" + (task.empty() ? std::string() : " of " + task) +
                        " is stored (run `ticketlab-cli analyze sensitivity ... --db " + store.path() + "`)");
    }
    StoredSensitivity out;
    out.id = found->id;
    out.name = found->name;
    out.task = found->task;
    out.createdAt = found->createdAt;
    if (found->modelId)
        if (const auto m = store.model(found->modelId))
            out.model = m->path;
    const auto j = nlohmann::json::parse(found->resultJson, nullptr, false);
    out.scan = SensitivityScan::fromJson(j, store.path() + ": sensitivity scan " + std::to_string(found->id));
    return out;
}

} // namespace tl

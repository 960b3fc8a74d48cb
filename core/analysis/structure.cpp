#include "analysis/structure.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

#include "analysis/analysis.h"
#include "store/experiment_store.h"
#include "util/error.h"

namespace tl {

namespace {

int64_t countAlive(const std::vector<std::vector<uint8_t>> &v)
{
    int64_t n = 0;
    for (const auto &row : v)
        for (uint8_t x : row)
            n += x != 0;
    return n;
}

int64_t countAll(const std::vector<std::vector<uint8_t>> &v)
{
    int64_t n = 0;
    for (const auto &row : v)
        n += static_cast<int64_t>(row.size());
    return n;
}

/// The encoder matrices of a mask by (layer, type).
std::map<std::pair<int, MatrixType>, MaskTensor *> encoderMatrices(MaskSet &mask)
{
    std::map<std::pair<int, MatrixType>, MaskTensor *> out;
    for (MaskTensor &t : mask.tensors) {
        const ParamLocation loc = locateParam(t.name);
        if (loc.layer >= 0 && loc.type != MatrixType::Other && t.shape.size() == 2)
            out[{loc.layer, loc.type}] = &t;
    }
    return out;
}

/// Whether any weight of row r (columns: column c) of t is kept.
bool rowKept(const MaskTensor &t, int64_t r)
{
    const int64_t cols = t.shape[1];
    return std::any_of(t.keep.begin() + r * cols, t.keep.begin() + (r + 1) * cols, [](uint8_t k) { return k != 0; });
}

bool columnKept(const MaskTensor &t, int64_t c)
{
    for (int64_t r = 0; r < t.shape[0]; ++r)
        if (t.keep[size_t(r * t.shape[1] + c)])
            return true;
    return false;
}

void clearRow(MaskTensor &t, int64_t r)
{
    std::fill(t.keep.begin() + r * t.shape[1], t.keep.begin() + (r + 1) * t.shape[1], uint8_t(0));
}

void clearColumn(MaskTensor &t, int64_t c)
{
    for (int64_t r = 0; r < t.shape[0]; ++r)
        t.keep[size_t(r * t.shape[1] + c)] = 0;
}

} // namespace

int64_t MaskStructure::headsAlive() const
{
    return countAlive(headAlive);
}
int64_t MaskStructure::headsTotal() const
{
    return countAll(headAlive);
}
int64_t MaskStructure::neuronsAlive() const
{
    return countAlive(neuronAlive);
}
int64_t MaskStructure::neuronsTotal() const
{
    return countAll(neuronAlive);
}
double MaskStructure::headsRemoved() const
{
    return headsTotal() ? 1.0 - double(headsAlive()) / double(headsTotal()) : 0.0;
}
double MaskStructure::neuronsRemoved() const
{
    return neuronsTotal() ? 1.0 - double(neuronsAlive()) / double(neuronsTotal()) : 0.0;
}

MaskStructure maskStructure(const MaskSet &maskIn, int heads)
{
    if (heads < 1)
        throw Error("mask structure: " + std::to_string(heads) + " attention heads (need at least 1)");
    MaskSet &mask = const_cast<MaskSet &>(maskIn); // read only: encoderMatrices hands out pointers
    const auto m = encoderMatrices(mask);
    int layers = 0;
    for (const auto &[key, t] : m)
        layers = std::max(layers, key.first + 1);
    MaskStructure s;
    s.heads = heads;
    const auto find = [&](int layer, MatrixType type) -> const MaskTensor * {
        const auto it = m.find({layer, type});
        return it == m.end() ? nullptr : it->second;
    };
    for (int l = 0; l < layers; ++l) {
        std::vector<uint8_t> alive(size_t(heads), 0);
        const MaskTensor *q = find(l, MatrixType::Query), *k = find(l, MatrixType::Key),
                         *v = find(l, MatrixType::Value), *o = find(l, MatrixType::AttentionOutput);
        if (!q || !k || !v || !o) {
            std::fill(alive.begin(), alive.end(), uint8_t(1));
        } else {
            if (q->shape[0] % heads != 0)
                throw Error("mask structure: " + std::to_string(heads) + " heads do not divide the " +
                            std::to_string(q->shape[0]) + " rows of " + q->name);
            const int64_t d = q->shape[0] / heads;
            for (int h = 0; h < heads; ++h)
                for (int64_t i = h * d; i < (h + 1) * d && !alive[size_t(h)]; ++i)
                    alive[size_t(h)] = rowKept(*q, i) || rowKept(*k, i) || rowKept(*v, i) || columnKept(*o, i);
        }
        s.headAlive.push_back(std::move(alive));
        const MaskTensor *in = find(l, MatrixType::FfnIn), *out = find(l, MatrixType::FfnOut);
        std::vector<uint8_t> neurons;
        if (in && out) {
            neurons.assign(size_t(in->shape[0]), 0);
            for (int64_t j = 0; j < in->shape[0]; ++j)
                neurons[size_t(j)] = rowKept(*in, j) || (j < out->shape[1] && columnKept(*out, j));
        }
        s.neuronAlive.push_back(std::move(neurons));
    }
    return s;
}

void pruneUnits(MaskSet &mask, int heads, const std::vector<UnitId> &headUnits, const std::vector<UnitId> &neuronUnits)
{
    const auto m = encoderMatrices(mask);
    const auto need = [&](int layer, MatrixType type) -> MaskTensor & {
        const auto it = m.find({layer, type});
        if (it == m.end())
            throw Error("pruning units: the mask has no " + matrixTypeName(type) + " matrix in layer " +
                        std::to_string(layer));
        return *it->second;
    };
    for (const UnitId &u : headUnits) {
        MaskTensor &q = need(u.layer, MatrixType::Query);
        const int64_t d = q.shape[0] / heads;
        if (u.index < 0 || u.index >= heads)
            throw Error("pruning units: head " + std::to_string(u.index) + " of layer " + std::to_string(u.layer) +
                        " does not exist (" + std::to_string(heads) + " heads)");
        for (MatrixType t : {MatrixType::Query, MatrixType::Key, MatrixType::Value})
            for (int64_t r = u.index * d; r < (u.index + 1) * d; ++r)
                clearRow(need(u.layer, t), r);
        for (int64_t c = u.index * d; c < (u.index + 1) * d; ++c)
            clearColumn(need(u.layer, MatrixType::AttentionOutput), c);
    }
    for (const UnitId &u : neuronUnits) {
        MaskTensor &in = need(u.layer, MatrixType::FfnIn);
        if (u.index < 0 || u.index >= in.shape[0])
            throw Error("pruning units: neuron " + std::to_string(u.index) + " of layer " + std::to_string(u.layer) +
                        " does not exist (" + std::to_string(in.shape[0]) + " neurons)");
        clearRow(in, u.index);
        clearColumn(need(u.layer, MatrixType::FfnOut), u.index);
    }
}

std::vector<UnitId> chooseUnits(const std::vector<std::vector<uint8_t>> &alive,
                                const std::vector<std::vector<double>> &scores, int64_t count,
                                std::optional<uint64_t> randomSeed)
{
    std::vector<UnitId> candidates;
    for (size_t l = 0; l < alive.size(); ++l)
        for (size_t i = 0; i < alive[l].size(); ++i)
            if (alive[l][i])
                candidates.push_back({int(l), int(i)});
    if (count < 0 || count > static_cast<int64_t>(candidates.size()))
        throw Error("pruning units: asked for " + std::to_string(count) + " of " + std::to_string(candidates.size()) +
                    " alive units");
    if (!randomSeed) {
        if (scores.size() != alive.size())
            throw Error("pruning units: importance scores for " + std::to_string(scores.size()) +
                        " layers, the mask has " + std::to_string(alive.size()));
        for (size_t l = 0; l < alive.size(); ++l)
            if (scores[l].size() != alive[l].size())
                throw Error("pruning units: layer " + std::to_string(l) + " has " + std::to_string(alive[l].size()) +
                            " units but " + std::to_string(scores[l].size()) + " scores");
        std::stable_sort(candidates.begin(), candidates.end(), [&](const UnitId &a, const UnitId &b) {
            return scores[size_t(a.layer)][size_t(a.index)] < scores[size_t(b.layer)][size_t(b.index)];
        });
    } else {
        // Our own Fisher-Yates on mt19937_64 (bit-exact everywhere, unlike std::shuffle).
        std::mt19937_64 rng(*randomSeed);
        for (size_t i = candidates.size(); i > 1; --i)
            std::swap(candidates[i - 1], candidates[size_t(rng() % i)]);
    }
    candidates.resize(size_t(count));
    std::sort(candidates.begin(), candidates.end(), [](const UnitId &a, const UnitId &b) {
        return a.layer != b.layer ? a.layer < b.layer : a.index < b.index;
    });
    return candidates;
}

nlohmann::json UnitImportance::toJson() const
{
    return {{"heads", heads}, {"neurons", neurons}, {"examples", examples}, {"split", split}};
}

UnitImportance UnitImportance::fromJson(const nlohmann::json &j, const std::string &source)
{
    UnitImportance u;
    const auto grid = [&](const char *key, std::vector<std::vector<double>> &out, bool required) {
        if (!j.is_object() || !j.contains(key)) {
            if (required)
                throw Error(source + ": '" + key + "' is missing");
            return;
        }
        const auto &v = j[key];
        if (!v.is_array())
            throw Error(source + ": '" + key + "' is not an array of layers");
        for (size_t l = 0; l < v.size(); ++l) {
            if (!v[l].is_array())
                throw Error(source + ": " + key + "[" + std::to_string(l) + "] is not an array");
            std::vector<double> row;
            for (const auto &x : v[l]) {
                if (!x.is_number())
                    throw Error(source + ": " + key + "[" + std::to_string(l) + "] holds " + x.dump() +
                                ", not a number");
                row.push_back(x.get<double>());
            }
            out.push_back(std::move(row));
        }
    };
    grid("heads", u.heads, true);
    grid("neurons", u.neurons, false);
    if (j.contains("examples") && j["examples"].is_number_integer())
        u.examples = j["examples"].get<int64_t>();
    if (j.contains("split") && j["split"].is_string())
        u.split = j["split"].get<std::string>();
    return u;
}

void storeUnitImportance(ExperimentStore &store, int64_t runId, int round, const UnitImportance &importance,
                         const std::string &split)
{
    store.inTransaction("store head importance", [&] {
        const RunRecord run = store.requireRun(runId);
        store.deleteRunAnalyses(runId, round, kHeadImportanceAnalysis);
        AnalysisRecord a;
        a.kind = kHeadImportanceAnalysis;
        a.runId = runId;
        a.round = round;
        a.modelId = run.modelId;
        a.datasetId = run.datasetId;
        a.task = run.task;
        a.paramsJson = nlohmann::json{{"split", split}, {"examples", importance.examples}}.dump();
        UnitImportance copy = importance;
        copy.split = split;
        a.resultJson = copy.toJson().dump();
        store.addAnalysis(a);
    });
}

int64_t storeModelImportance(ExperimentStore &store, const UnitImportance &importance, const ModelRecord &model,
                             const DatasetRecord &data, const std::string &task, const std::string &name)
{
    AnalysisRecord a;
    a.kind = kHeadImportanceAnalysis;
    a.name = name;
    a.task = task;
    a.paramsJson = nlohmann::json{{"split", importance.split}, {"examples", importance.examples}}.dump();
    a.resultJson = importance.toJson().dump();
    return store.addAnalysis(a, model, data);
}

std::optional<UnitImportance> storedUnitImportance(const ExperimentStore &store, int64_t runId, int round)
{
    for (const AnalysisRecord &a : store.runAnalyses(runId, kHeadImportanceAnalysis))
        if (a.round == round)
            return UnitImportance::fromJson(nlohmann::json::parse(a.resultJson, nullptr, false),
                                            store.path() + ": head importance of run " + std::to_string(runId) +
                                                " round " + std::to_string(round));
    return std::nullopt;
}

} // namespace tl

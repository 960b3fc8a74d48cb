#include "analysis/mask_algebra.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/run_spec.h"
#include "prune/prune_order.h"
#include "util/error.h"

namespace tl {

namespace {

std::string labelOf(const std::vector<std::string> &labels, size_t i)
{
    return i < labels.size() ? labels[i] : "mask " + std::to_string(i + 1);
}

/// For every tensor of masks[0], the matching tensor of each mask (same name and shape).
std::vector<std::vector<const MaskTensor *>> matchTensors(const std::vector<MaskSet> &masks,
                                                          const std::vector<std::string> &labels)
{
    if (masks.size() < 2)
        throw Error("a mask operation needs at least two masks, got " + std::to_string(masks.size()));
    const MaskSet &first = masks[0];
    std::vector<std::vector<const MaskTensor *>> matched(first.tensors.size());
    for (size_t m = 0; m < masks.size(); ++m) {
        if (masks[m].tensors.size() != first.tensors.size())
            throw Error(labelOf(labels, m) + " has " + std::to_string(masks[m].tensors.size()) +
                        " masked parameters, " + labelOf(labels, 0) + " has " + std::to_string(first.tensors.size()) +
                        ": masks of different models or settings");
        for (size_t t = 0; t < first.tensors.size(); ++t) {
            const MaskTensor &ref = first.tensors[t];
            const MaskTensor *other = masks[m].find(ref.name);
            if (!other)
                throw Error(labelOf(labels, m) + " has no parameter '" + ref.name + "' (" + labelOf(labels, 0) +
                            " has)");
            if (other->shape != ref.shape || other->keep.size() != ref.keep.size())
                throw Error("parameter '" + ref.name + "' is " + shapeToString(other->shape) + " in " +
                            labelOf(labels, m) + " but " + shapeToString(ref.shape) + " in " + labelOf(labels, 0));
            matched[t].push_back(other);
        }
    }
    return matched;
}

} // namespace

MaskOp maskOpFromName(const std::string &name)
{
    if (name == "intersect")
        return MaskOp::Intersect;
    if (name == "union")
        return MaskOp::Union;
    if (name == "diff")
        return MaskOp::Diff;
    throw Error("unknown mask operation '" + name + "' (expected intersect, union or diff)");
}

const char *maskOpName(MaskOp op)
{
    switch (op) {
    case MaskOp::Intersect:
        return "intersect";
    case MaskOp::Union:
        return "union";
    case MaskOp::Diff:
        return "diff";
    }
    return "?";
}

MaskSet combineMasks(MaskOp op, const std::vector<MaskSet> &masks, const std::vector<std::string> &labels)
{
    const auto matched = matchTensors(masks, labels);
    MaskSet out;
    for (size_t t = 0; t < matched.size(); ++t) {
        const std::vector<const MaskTensor *> &ts = matched[t];
        MaskTensor r{ts[0]->name, ts[0]->shape, std::vector<uint8_t>(ts[0]->keep.size())};
        for (size_t i = 0; i < r.keep.size(); ++i) {
            bool all = true, any = false, anyOther = false;
            for (size_t m = 0; m < ts.size(); ++m) {
                const bool k = ts[m]->keep[i] != 0;
                all = all && k;
                any = any || k;
                if (m > 0)
                    anyOther = anyOther || k;
            }
            const bool keep = op == MaskOp::Intersect ? all
                              : op == MaskOp::Union   ? any
                                                      : ts[0]->keep[i] != 0 && !anyOther;
            r.keep[i] = keep ? 1 : 0;
        }
        out.tensors.push_back(std::move(r));
    }
    return out;
}

std::vector<MaskRef> parseMaskRefs(const std::string &text)
{
    std::vector<MaskRef> refs;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        const std::string entry = text.substr(start, comma - start);
        const auto bad = [&entry](const std::string &why) {
            return Error("mask '" + entry + "': " + why + " (expected RUN:ROUND or RUN, e.g. 3:5,7:5)");
        };
        if (entry.empty())
            throw bad("empty entry");
        const size_t colon = entry.find(':');
        MaskRef ref;
        try {
            size_t used = 0;
            const std::string run = entry.substr(0, colon);
            ref.run = std::stoll(run, &used);
            if (used != run.size() || ref.run <= 0)
                throw bad("the run is not a positive integer");
            if (colon == std::string::npos) {
                ref.round = -1;
            } else {
                const std::string round = entry.substr(colon + 1);
                ref.round = std::stoi(round, &used);
                if (used != round.size() || ref.round < 0)
                    throw bad("the round is not an integer >= 0");
            }
        } catch (const std::logic_error &) {
            throw bad("not a number");
        }
        refs.push_back(ref);
        start = comma + 1;
    }
    return refs;
}

std::vector<MaskRef> resolveMaskRefs(const ExperimentStore &store, std::vector<MaskRef> refs)
{
    for (MaskRef &ref : refs) {
        if (ref.round >= 0)
            continue;
        ref.round = storedMaskRounds(store, ref.run);
        if (ref.round < 0)
            throw Error(store.path() + ": run " + std::to_string(ref.run) + " has no stored masks");
    }
    return refs;
}

StoredMaskOp storeMaskOp(ExperimentStore &store, MaskOp op, const std::vector<MaskRef> &given, const std::string &name)
{
    const std::vector<MaskRef> refs = resolveMaskRefs(store, given);
    std::vector<MaskSet> masks;
    std::vector<std::string> labels;
    nlohmann::json list = nlohmann::json::array();
    for (const MaskRef &ref : refs) {
        masks.push_back(storedMask(store, ref.run, ref.round));
        labels.push_back("run " + std::to_string(ref.run) + " round " + std::to_string(ref.round));
        list.push_back({{"run", ref.run}, {"round", ref.round}});
    }
    StoredMaskOp out;
    out.mask = combineMasks(op, masks, labels);

    const nlohmann::json spec = {{"mask_op", maskOpName(op)}, {"masks", list}, {"name", name}};
    const StoredImport stored =
        storeImportedMask(store, spec, fnv1aHex(spec.dump()), store.requireRun(refs[0].run).modelId, out.mask, 1);
    out.runId = stored.runId;
    out.created = !stored.existed;
    return out;
}

StoredImport storeImportedMask(ExperimentStore &store, const nlohmann::json &spec, const std::string &specHash,
                               int64_t modelId, const MaskSet &mask, int round)
{
    StoredImport out;
    const auto existing = store.findRun(specHash, 0);
    if (existing && existing->status == "done") {
        out.runId = existing->id;
        out.existed = true;
        return out;
    }
    out.runId = existing ? existing->id : 0; // one interrupted between its writes is completed
    if (!out.runId) {
        RunRecord r;
        r.kind = RunKind::Import;
        r.status = "running";
        r.specJson = spec.dump();
        r.specHash = specHash;
        r.task = "import";
        r.device = "cpu";
        r.modelId = modelId;
        out.runId = store.createRun(r);
    }
    MaskSet dense = mask;
    for (MaskTensor &t : dense.tensors)
        std::fill(t.keep.begin(), t.keep.end(), uint8_t(1));
    PruneOrder order = PruneOrder::fromMask(dense);
    order.record(mask, round);
    RoundRecord rec;
    rec.runId = out.runId;
    rec.round = round;
    rec.sparsity = mask.sparsity();
    const std::vector<char> blob = encodePruneOrder(order);
    store.commitRound(rec, {}, &blob);
    store.setRunStatus(out.runId, "done");
    return out;
}

SuperSurvivors superSurvivors(const std::vector<MaskSet> &masks, const std::vector<std::string> &labels)
{
    const auto matched = matchTensors(masks, labels);
    SuperSurvivors out;
    out.masks = int(masks.size());
    std::map<MatrixType, SurvivorCount> byType;
    for (const std::vector<const MaskTensor *> &ts : matched) {
        const ParamLocation where = locateParam(ts[0]->name);
        SurvivorCount c;
        c.layer = where.layer;
        c.type = where.type;
        c.name = ts[0]->name;
        c.total = int64_t(ts[0]->keep.size());
        double product = 1;
        for (const MaskTensor *t : ts)
            product *= c.total ? double(std::count(t->keep.begin(), t->keep.end(), uint8_t(1))) / double(c.total) : 0.0;
        for (size_t i = 0; i < ts[0]->keep.size(); ++i) {
            bool all = true;
            for (const MaskTensor *t : ts)
                all = all && t->keep[i] != 0;
            c.keptByAll += all;
        }
        c.expected = double(c.total) * product;
        out.byTensor.push_back(c);
        for (SurvivorCount *sum : {&byType[c.type], &out.overall}) {
            sum->type = sum == &out.overall ? MatrixType::Other : c.type;
            sum->total += c.total;
            sum->keptByAll += c.keptByAll;
            sum->expected += c.expected;
        }
    }
    for (const auto &[type, sum] : byType)
        out.byType.push_back(sum);
    return out;
}

} // namespace tl

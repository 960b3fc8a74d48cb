#include "prune/mask_set.h"

#include <algorithm>
#include <map>

#include "util/error.h"

namespace tl {

int64_t MaskTensor::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

const MaskTensor *MaskSet::find(const std::string &name) const
{
    for (const MaskTensor &t : tensors) {
        if (t.name == name)
            return &t;
    }
    return nullptr;
}

MaskTensor *MaskSet::find(const std::string &name)
{
    return const_cast<MaskTensor *>(static_cast<const MaskSet *>(this)->find(name));
}

int64_t MaskSet::total() const
{
    int64_t n = 0;
    for (const MaskTensor &t : tensors)
        n += int64_t(t.keep.size());
    return n;
}

int64_t MaskSet::kept() const
{
    int64_t n = 0;
    for (const MaskTensor &t : tensors)
        n += std::count_if(t.keep.begin(), t.keep.end(), [](uint8_t k) { return k != 0; });
    return n;
}

double MaskSet::sparsity() const
{
    const int64_t n = total();
    return n == 0 ? 0.0 : double(n - kept()) / double(n);
}

double maskDistance(const MaskSet &a, const MaskSet &b)
{
    if (a.tensors.size() != b.tensors.size())
        throw Error("mask distance: the masks hold " + std::to_string(a.tensors.size()) + " and " +
                    std::to_string(b.tensors.size()) + " tensors");
    int64_t differ = 0, total = 0;
    for (size_t i = 0; i < a.tensors.size(); ++i) {
        const MaskTensor &x = a.tensors[i], &y = b.tensors[i];
        if (x.name != y.name || x.keep.size() != y.keep.size())
            throw Error("mask distance: tensor " + std::to_string(i) + " is " + x.name + " " + shapeToString(x.shape) +
                        " in one mask and " + y.name + " " + shapeToString(y.shape) + " in the other");
        for (size_t k = 0; k < x.keep.size(); ++k)
            differ += (x.keep[k] != 0) != (y.keep[k] != 0);
        total += static_cast<int64_t>(x.keep.size());
    }
    return total == 0 ? 0.0 : double(differ) / double(total);
}

std::string shapeToString(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

void validateMask(const MaskSet &mask, const ParamShapes &expected, const std::string &source)
{
    std::map<std::string, const std::vector<int64_t> *> want;
    for (const auto &[name, shape] : expected)
        want.emplace(name, &shape);
    std::map<std::string, bool> seen;
    for (const MaskTensor &t : mask.tensors) {
        const std::string where = source + ": mask '" + t.name + "'";
        if (!seen.emplace(t.name, true).second)
            throw Error(where + " appears twice");
        const auto it = want.find(t.name);
        if (it == want.end())
            throw Error(where + " is not a prunable parameter of the model");
        if (t.shape != *it->second)
            throw Error(where + " has shape " + shapeToString(t.shape) + ", the parameter has " +
                        shapeToString(*it->second));
        // The shape may be right while the bytes are not (a hand-built MaskSet).
        if (int64_t(t.keep.size()) != t.numel())
            throw Error(where + " holds " + std::to_string(t.keep.size()) + " values for shape " +
                        shapeToString(t.shape));
        const auto bad = std::find_if(t.keep.begin(), t.keep.end(), [](uint8_t k) { return k > 1; });
        if (bad != t.keep.end())
            throw Error(where + " holds " + std::to_string(int(*bad)) + " at index " +
                        std::to_string(bad - t.keep.begin()) + "; a mask holds only 0 and 1");
    }
    for (const auto &[name, shape] : expected) {
        if (!seen.count(name))
            throw Error(source + ": mask for parameter '" + name + "' is missing");
    }
}

MaskSet alignMask(MaskSet mask, const ParamShapes &expected, const std::string &source)
{
    validateMask(mask, expected, source);
    std::map<std::string, MaskTensor *> byName;
    for (MaskTensor &t : mask.tensors)
        byName[t.name] = &t;
    MaskSet out;
    out.tensors.reserve(expected.size());
    for (const auto &param : expected)
        out.tensors.push_back(std::move(*byName.at(param.first)));
    return out;
}

} // namespace tl

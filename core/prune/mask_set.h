#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tl {

/// A mask: for each prunable parameter (Hugging Face name, e.g.
/// "bert.encoder.layer.0.attention.self.query.weight"), one byte per weight, 1 = kept,
/// 0 = pruned, row-major by shape. Bytes rather than bits: masks are applied element-wise
/// to float tensors, and one byte per weight keeps that a plain multiply.
struct MaskTensor
{
    std::string name;
    std::vector<int64_t> shape;
    std::vector<uint8_t> keep;
    int64_t numel() const;
};

struct MaskSet
{
    std::vector<MaskTensor> tensors; ///< in prunable-parameter order
    /// nullptr when absent.
    const MaskTensor *find(const std::string &name) const;
    MaskTensor *find(const std::string &name);
    int64_t total() const;
    int64_t kept() const;
    double sparsity() const; ///< fraction pruned; 0 for an empty mask
};

/// Expected parameters: (name, shape) in prunable-parameter order.
using ParamShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

/// Checks keys and shapes against the expected parameters, and that every tensor holds
/// numel() bytes of 0 or 1. A missing key, unexpected key, duplicate key or wrong shape is
/// a tl::Error naming the key and source (e.g. the file).
void validateMask(const MaskSet &mask, const ParamShapes &expected, const std::string &source);

/// validateMask, then the same tensors reordered into expected's order: files do not all keep
/// the order they were written in (safetensors and torch.save readers sort by name).
MaskSet alignMask(MaskSet mask, const ParamShapes &expected, const std::string &source);

/// The normalised Hamming distance of two masks of one layout: the fraction of weights that one
/// keeps and the other prunes, in [0, 1] (0 for empty masks). Throws tl::Error naming the
/// first tensor whose name or size differs.
double maskDistance(const MaskSet &a, const MaskSet &b);

/// "[768, 3072]" for messages.
std::string shapeToString(const std::vector<int64_t> &shape);

} // namespace tl

#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tl {

/// A tensor of a torch.save() file, converted to contiguous float32 (row-major by its shape).
struct PickledTensor
{
    std::vector<int64_t> shape;
    std::vector<float> values;
};

/// Reads a torch.save() zip archive (PyTorch >= 1.6 format) holding a dict / OrderedDict of
/// name -> tensor, e.g. a Hugging Face pytorch_model.bin, without LibTorch (whose
/// torch::pickle_load rejects an OrderedDict). Tensors of any float, integer or bool storage
/// come back as float32, views (strides, storage offsets, shared storages) resolved.
/// Throws tl::Error naming the file and what is unsupported or corrupt: the legacy non-zip
/// format, compressed members, big-endian storages, unknown pickle opcodes or globals, a
/// value that is not a tensor, a view outside its storage. Never crashes on corrupt input.
std::map<std::string, PickledTensor> readTorchStateDict(const std::string &path);

/// The same from bytes already in memory; nameForErrors stands for the file in messages.
std::map<std::string, PickledTensor> parseTorchStateDict(std::vector<char> bytes, const std::string &nameForErrors);

} // namespace tl

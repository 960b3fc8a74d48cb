#pragma once

// Torch-free helpers for Hugging Face model folders.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace tl {

/// vocab.txt of a model folder, or the path itself when it names a vocabulary file.
/// Throws tl::Error when a folder has no vocab.txt.
std::string vocabPath(const std::string &dirOrVocab);

/// The folder's tokenizer, honouring tokenizer_config.json's do_lower_case when present.
BertTokenizer loadTokenizer(const std::string &dirOrVocab);

/// FNV-1a 64 of the files' bytes (and their order), as 16 hex digits: the content hash that
/// tells whether a stored experiment used the same model or data.
std::string contentHash(const std::vector<std::string> &files);

/// model.safetensors, else pytorch_model.bin, in dir; throws tl::Error when neither is there.
std::string findWeightsFile(const std::string &dir);

/// The canonical Hugging Face name of a checkpoint key ("bert." added to a bare BertModel's
/// keys, legacy LayerNorm gamma/beta renamed, *legacy set then), or "" for keys that carry no
/// parameter (the position-id buffer, the decoder tied to the word embeddings).
std::string canonicalWeightKey(std::string key, bool *legacy = nullptr);

/// A checkpoint tensor as float32, row-major.
struct FloatTensor
{
    std::vector<int64_t> shape;
    std::vector<float> values;
};

/// The tensors of a weights file (safetensors or torch.save) under their canonical names, for
/// which want(name) is true, without LibTorch: what the torch-free analyses read θ0 from.
/// Throws tl::Error naming the file.
std::map<std::string, FloatTensor> readWeightsFile(const std::string &weightsFile,
                                                   const std::function<bool(const std::string &)> &want);

} // namespace tl

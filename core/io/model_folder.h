#pragma once

// Torch-free helpers for Hugging Face model folders.

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

} // namespace tl

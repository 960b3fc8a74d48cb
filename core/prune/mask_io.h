#pragma once

#include <string>

#include "prune/mask_set.h"

namespace tl {

/// Mask files, readable by BERT-Tickets-style Python code as well as by us:
///  - Safetensors: keys "<parameter>_mask", float32 0/1 (safetensors.torch.load_file);
///  - Pt: the same as a torch.save() zip archive, written without LibTorch, so torch.load +
///    torch.nn.utils.prune.custom_from_mask apply it to a Hugging Face model;
///  - Npz: numpy.savez layout, one uint8 "<parameter>.npy" array per parameter (no suffix).
enum class MaskFormat
{
    Safetensors,
    Pt,
    Npz
};

/// "safetensors", "pt" (or "pth", "torch"), "npz", case-insensitive; throws tl::Error.
MaskFormat maskFormatFromName(const std::string &name);
/// By extension: .safetensors, .pt / .pth / .bin, .npz; throws tl::Error naming the path.
MaskFormat maskFormatFromPath(const std::string &path);
const char *maskFormatName(MaskFormat format);

/// Written atomically; throws tl::Error naming the path (or the tensor at fault).
void writeMaskFile(const MaskSet &mask, const std::string &path, MaskFormat format);

/// Any of the three formats, detected by content (a zip holding .npy members is npz, one holding
/// <name>/data.pkl is torch.save, anything else must be safetensors), including BERT-Tickets'
/// own mask.pt files (a state dict of "<parameter>_mask" tensors, saved from CPU or CUDA).
/// "_mask" suffixes are stripped. Values may be float, integer or bool but must be exactly 0
/// or 1; anything else is a tl::Error naming the file and the key. Tensors come back in the
/// file's order for npz and sorted by name otherwise; alignMask() puts them in model order.
MaskSet readMaskFile(const std::string &path);

} // namespace tl

#pragma once

// Everything the experiment browser lists, read from the store in one go (torch-free, any
// thread): the app loads a snapshot off the UI thread and swaps it into the item model.

#include <optional>
#include <string>
#include <vector>

#include "store/experiment_store.h"

namespace tl::ui {

struct RunEntry
{
    RunRecord run;
    std::vector<RoundRecord> rounds;
    std::string modelPath;   ///< empty when the run has no model record
    std::string modelLabel;  ///< the model's name, unique in the lab (modelLabels())
    std::string datasetPath; ///< ditto
    std::optional<TransferRecord> transfer;
};

struct LabSnapshot
{
    std::string db;
    std::vector<RunEntry> runs; ///< newest first
    std::string error;          ///< set when the database could not be read; runs then empty
};

/// Reads the database at db (which must exist: it is never created here).
LabSnapshot loadLabSnapshot(const std::string &db);

} // namespace tl::ui

#pragma once

// Merging experiment stores: the per-run SQLite files of a SLURM job array (or a lab copied
// from another machine) into one lab. Torch-free.

#include <string>
#include <vector>

namespace tl {

class ExperimentStore;

struct MergeReport
{
    int added = 0;      ///< runs copied into the lab
    int identical = 0;  ///< runs the lab already had, with the same results
    int unfinished = 0; ///< runs left out because they are not done (nothing to resume from there)
};

/// Copies every finished run of `from` (with its model and data-set records, rounds, training
/// curves, early-bird mask distances, the analyses of its rounds, prune order and transfer provenance) into `into`, one
/// transaction per run. A run is identified by its spec hash and seed: one the lab already holds with the same rounds,
/// metrics and masks is skipped, so merging twice adds nothing; one with different results is an error naming the run,
/// and leaves the lab as it was before that run. Source-run ids in specs and transfer records are mapped to the lab's
/// ids.
MergeReport mergeStore(ExperimentStore &into, const ExperimentStore &from);

} // namespace tl

#include "models/labsnapshot.h"

#include <exception>
#include <filesystem>
#include <map>

#include "analysis/tickets.h"

namespace tl::ui {

LabSnapshot loadLabSnapshot(const std::string &db)
{
    LabSnapshot s;
    s.db = db;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(db, ec)) {
        s.error = db + ": no such experiment database";
        return s;
    }
    try {
        const auto store = ExperimentStore::open(db);
        std::map<int64_t, std::string> models, datasets;
        // One snapshot of the lab: runs, rounds and records as of one moment.
        store->readSnapshot([&] {
            const std::map<int64_t, std::string> labels = modelLabels(*store);
            for (const RunRecord &run : store->runs()) {
                RunEntry e;
                e.run = run;
                e.modelLabel = labels.at(run.modelId);
                e.rounds = store->rounds(run.id);
                if (run.modelId) {
                    if (!models.count(run.modelId))
                        if (auto m = store->model(run.modelId))
                            models[run.modelId] = m->path;
                    e.modelPath = models[run.modelId];
                }
                if (run.datasetId) {
                    if (!datasets.count(run.datasetId))
                        if (auto d = store->dataset(run.datasetId))
                            datasets[run.datasetId] = d->path;
                    e.datasetPath = datasets[run.datasetId];
                }
                if (run.kind == RunKind::Transfer)
                    e.transfer = store->transfer(run.id);
                s.runs.push_back(std::move(e));
            }
        });
    } catch (const std::exception &e) {
        s.runs.clear();
        s.error = e.what();
    }
    return s;
}

} // namespace tl::ui

#pragma once

// What the figure tests share: reading a figure's CSV, and two labs of their own beside the
// shared fixture (labfixture.h): one whose run has a model folder on this machine (weight
// histograms), one with early-bird draws and sensitivity scans (mask science).

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <utility>

#include "analysis/analysis.h"
#include "analysis/sensitivity_data.h"
#include "io/safetensors.h"
#include "labfixture.h"
#include "plots/figure.h"

namespace tl::test {

using tl::ui::Figure;

inline QStringList csvRows(const Figure &f)
{
    return f.csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

/// The CSV rows whose columns match all of (index, value).
inline QList<QStringList> rowsWhere(const Figure &f, const QList<QPair<int, QString>> &match)
{
    QList<QStringList> out;
    const QStringList rows = csvRows(f);
    for (int i = 1; i < rows.size(); ++i) {
        const QStringList cols = rows[i].split(QLatin1Char(','));
        bool ok = true;
        for (const auto &[col, value] : match)
            ok = ok && col < cols.size() && cols[col] == value;
        if (ok)
            out << cols;
    }
    return out;
}

/// A lab of its own (the shared one's figures must not see it) with one run whose model
/// folder exists: the fixture's IMP masks (run impRun of fixtureDb) with weights |w| = (i + 1) / n per tensor.
/// Written once; (database, run).
inline std::pair<QString, int64_t> histogramLab(const QTemporaryDir &dir, const QString &fixtureDb, int64_t impRun)
{
    const QString modelDir = dir.filePath(QStringLiteral("hist-model"));
    const QString db = dir.filePath(QStringLiteral("hist.db"));
    if (QFile::exists(db))
        return {db, 1};
    if (!QDir().mkpath(modelDir))
        return {};
    const PruneOrder order = storedPruneOrder(*ExperimentStore::open(fixtureDb.toStdString()), impRun);
    auto store = ExperimentStore::open(db.toStdString());
    const auto dense = order.maskAt(0);
    std::vector<std::vector<float>> values;
    std::vector<SafeTensorOut> out;
    for (const MaskTensor &t : dense.tensors) {
        std::vector<float> v(t.keep.size());
        for (size_t i = 0; i < v.size(); ++i)
            v[i] = float(i % 2 ? -1 : 1) * float(i + 1) / float(v.size());
        values.push_back(std::move(v));
    }
    for (size_t i = 0; i < dense.tensors.size(); ++i)
        out.push_back({dense.tensors[i].name, DType::F32, dense.tensors[i].shape, values[i].data()});
    writeSafetensors((modelDir + QStringLiteral("/model.safetensors")).toStdString(), out);
    const int64_t model = store->upsertModel({0, modelDir.toStdString(), "{}", "hist-hash"});
    const int64_t run = tltest::RunBuilder(RunKind::Imp, "SST-2")
                            .model(model)
                            .order(order)
                            .rounds({{0, 0.9}, {0.2, 0.9}, {0.4, 0.9}, {0.6, 0.9}})
                            .create(*store);
    return {db, run};
}

/// A lab of its own with an IMP run of the fixture's masks that drew early-bird masks
/// (rounds 0 and 1 stopped at steps 30 and 20 with epsilon 0.1; round 2 ran in full), and
/// two stored sensitivity scans of SST-2 (the second named "after"). Written once.
inline QString scienceLab(const QTemporaryDir &dir)
{
    const QString db = dir.filePath(QStringLiteral("science.db"));
    if (QFile::exists(db))
        return db;
    auto store = ExperimentStore::open(db.toStdString());
    const int64_t model = store->upsertModel({0, "/models/tiny-bert", test::fixtureConfigJson(), "hash-tiny"});
    const int64_t sst = store->upsertDataset({0, "SST-2", "/data/SST-2", "hash-sst"});
    test::FixtureWriter w{*store, model, "/models/tiny-bert"};
    auto b = w.run(RunKind::Imp, "SST-2", sst, 0);
    b.spec(R"({"model": "/m", "task": "SST-2", "data_dir": "/d", "kind": "imp",
               "early_bird": {"every": 10, "epsilon": 0.1, "window": 2, "stop": true}})",
           "early-bird-spec");
    const int64_t run = w.finishedRun(b, {0.9, 0.88, 0.8}, true);
    const auto rounds = store->rounds(run);
    for (int k = 0; k < 3; ++k) {
        RoundRecord r = rounds[size_t(k)];
        r.steps = k == 0 ? 30 : k == 1 ? 20 : 100;
        r.earlyBirdStep = k < 2 ? r.steps : 0;
        std::vector<MaskDistancePoint> d;
        if (k < 2)
            d = {{k, 10, 0.2}, {k, 20, 0.05}};
        if (k == 0)
            d.push_back({k, 30, 0.02});
        std::vector<CurvePoint> curve;
        for (const CurvePoint &c : store->curve(run))
            if (c.round == k)
                curve.push_back(c);
        store->commitRound(r, curve, nullptr, d);
    }
    SensitivityScan scan;
    scan.metric = "accuracy";
    scan.baseline = 0.9;
    scan.sparsities = {0.5, 0.9};
    for (int l = 0; l < 2; ++l)
        for (MatrixType t : encoderMatrixTypes())
            for (double s : scan.sparsities) {
                // Layer 1's FFN-out matters most; everything else barely.
                const double drop = (l == 1 && t == MatrixType::FfnOut) ? 0.4 * s : 0.01 * s;
                scan.cells.push_back({l, t, s, scan.baseline - drop, drop});
            }
    storeSensitivityScan(*store, scan, {0, "/models/tiny-bert", "{}", "hash-tiny"},
                         {0, "SST-2", "/data/SST-2", "hash-sst"}, "SST-2", "before");
    scan.baseline = 0.5;
    storeSensitivityScan(*store, scan, {0, "/models/tiny-bert", "{}", "hash-tiny"},
                         {0, "SST-2", "/data/SST-2", "hash-sst"}, "SST-2", "after");
    return db;
}

/// The figure tests' labs: the shared fixture in a temporary folder, with the two labs above
/// beside it, and a FigureRequest of it. A test class derives from it and calls open() first.
struct FigureLab
{
    QTemporaryDir dir;
    QString db;
    LabFixture lab;

    bool open()
    {
        if (!dir.isValid())
            return false;
        db = dir.filePath(QStringLiteral("lab.db"));
        lab = writeLabFixture(db.toStdString());
        return true;
    }
    ui::FigureRequest request(QList<qint64> runs = {}, int round = -1) const
    {
        ui::FigureRequest r;
        r.db = db;
        r.runs = runs;
        r.round = round;
        return r;
    }
    std::pair<QString, int64_t> histogramLab() { return test::histogramLab(dir, db, lab.impSst0); }
    QString scienceLab() { return test::scienceLab(dir); }
};

} // namespace tl::test

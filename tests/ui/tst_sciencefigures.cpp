// The numbers of the mask-science and head figures, from hand-made stores: weight histograms,
// early-bird distances, sensitivity, super-survivors, head survival's modes (a compacted model's
// heads included), heads across runs and metric against heads removed.

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "plots/qcp.h"

#include "figuretestutil.h"
#include "analysis/structure.h"
#include "util/error.h"

using namespace tl;
using namespace tl::ui;
using test::rowsWhere;

class TestScienceFigures : public QObject, private test::FigureLab
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(open()); }

    void weightHistogramFromTheModelFolder()
    {
        // Without the run's model folder on this machine: a note that says so, no error.
        Figure f = buildFigure(QStringLiteral("weight-histogram"), request({lab.impSst0}, 2));
        QVERIFY2(f.note.contains(QStringLiteral("not on this machine")), qPrintable(f.note));

        const auto [db, copy] = histogramLab();
        FigureRequest r = request({copy}, 2);
        r.db = db;
        r.matrixType = QStringLiteral("FFN-in");
        f = buildFigure(QStringLiteral("weight-histogram"), r);
        QVERIFY2(f.note.isEmpty(), qPrintable(f.note));
        QCOMPARE(f.maxRound, 3);
        QVERIFY(f.title.contains(QStringLiteral("round 2")));
        QCOMPARE(f.lines.size(), size_t(2)); // all weights, FFN-in
        QCOMPARE(f.lines[1].title, QStringLiteral("FFN-in"));
        for (const LinePanel &p : f.lines) {
            QCOMPARE(p.series.size(), size_t(2));
            for (const LineSeries &s : p.series) {
                double sum = 0;
                for (double y : s.y)
                    sum += y;
                QVERIFY2(std::abs(sum - 1.0) < 1e-9 || sum == 0.0, qPrintable(s.name)); // shares of each population
            }
        }
        // CSV: the counts of every type's bins add up to the mask's kept and pruned weights.
        auto store = ExperimentStore::open(db.toStdString());
        const MaskSet mask = storedMask(*store, copy, 2);
        const auto all = rowsWhere(f, {{3, QStringLiteral("all")}});
        QCOMPARE(all.size(), 50);
        int64_t kept = 0, pruned = 0;
        for (const QStringList &row : all) {
            kept += row[6].toLongLong();
            pruned += row[7].toLongLong();
        }
        QCOMPARE(kept, mask.kept());
        QCOMPARE(pruned, mask.total() - mask.kept());
    }

    void earlyBirdDistances()
    {
        FigureRequest r = request();
        r.db = scienceLab();
        const Figure f = buildFigure(QStringLiteral("early-bird"), r); // the newest run that drew
        QCOMPARE(f.lines.size(), size_t(1));
        const LinePanel &p = f.lines[0];
        QCOMPARE(p.series.size(), size_t(2)); // rounds 0 and 1; the last round draws nothing
        QCOMPARE(p.series[0].x, (std::vector<double>{10, 20, 30}));
        QCOMPARE(p.series[0].y, (std::vector<double>{0.2, 0.05, 0.02}));
        QCOMPARE(p.series[1].x, (std::vector<double>{10, 20}));
        QVERIFY(p.refMean);
        QCOMPARE(*p.refMean, 0.1); // epsilon
        QCOMPARE(p.marks.size(), size_t(2));
        QCOMPARE(p.marks[0].x, 30.0);
        QCOMPARE(p.marks[1].x, 20.0);
        // Rounds 0 and 1 trained 30 and 20 of the 100 steps round 2 ran: 150 of 300 saved.
        QVERIFY2(p.title.contains(QStringLiteral("150 of 300 steps saved")), qPrintable(p.title));
        QCOMPARE(rowsWhere(f, {{2, QStringLiteral("0")}}).size(), 3);
        QCOMPARE(rowsWhere(f, {{6, QStringLiteral("20")}}).size(), 2);
        // A run without draws says how to get them.
        const Figure none = buildFigure(QStringLiteral("early-bird"), request({lab.impSst0}));
        QVERIFY(none.lines.empty());
        QVERIFY(none.note.contains(QStringLiteral("early_bird")));
    }

    void sensitivityBesideImpSparsity()
    {
        FigureRequest r = request();
        r.db = scienceLab();
        r.round = 2;
        const Figure f = buildFigure(QStringLiteral("sensitivity"), r);
        QCOMPARE(f.heatmaps.size(), size_t(3));                                   // 50%, 90%, and where IMP pruned
        QVERIFY2(f.title.contains(QStringLiteral("after")), qPrintable(f.title)); // the newest scan
        const HeatmapPanel &at90 = f.heatmaps[1];
        QCOMPARE(at90.rows(), 2);
        QCOMPARE(at90.cols(), 6);
        QCOMPARE(at90.values[size_t(1 * 6 + 5)], 0.4 * 0.9); // layer 1 FFN-out
        QCOMPARE(at90.values[size_t(0 * 6 + 0)], 0.01 * 0.9);
        // The IMP panel is the run's per-layer sparsity at round 2 (as sparsity-heatmap shows it).
        const HeatmapPanel &imp = f.heatmaps[2];
        QVERIFY(imp.title.contains(QStringLiteral("round 2")));
        QCOMPARE(imp.values[size_t(0 * 6 + 4)], 0.5); // layer 0 FFN-in
        QCOMPARE(imp.values[size_t(1 * 6 + 5)], 0.0);
        QCOMPARE(f.maxRound, 2);
        // A chosen scan.
        r.analysis = 1;
        QVERIFY(buildFigure(QStringLiteral("sensitivity"), r).title.contains(QStringLiteral("before")));
        r.analysis = 9;
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("sensitivity"), r));
        // A lab without scans says how to make one.
        const Figure none = buildFigure(QStringLiteral("sensitivity"), request());
        QVERIFY(none.heatmaps.empty());
        QVERIFY(none.note.contains(QStringLiteral("analyze sensitivity")));
    }

    void superSurvivorsAgainstChance()
    {
        // IMP round 2 and random round 1 of the fixture: the kept-by-all set is round 2's.
        FigureRequest r = request({lab.impSst0, lab.randomSst});
        const Figure f = buildFigure(QStringLiteral("super-survivors"), r);
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QCOMPARE(p.rows(), 2);
        // Layer 0 Q: both keep 32 of 64; all keep 32 against 64 * 1/2 * 1/2 = 16 by chance.
        // Layer 1 FFN-in: 64 of 128 and 128 of 128: 64 against 64, chance level.
        r.round = 1;
        const Figure f1 = buildFigure(QStringLiteral("super-survivors"), r);
        QCOMPARE(f1.heatmaps[0].values[size_t(0 * 6 + 0)], 2.0);
        QCOMPARE(f1.heatmaps[0].values[size_t(1 * 6 + 4)], 1.0);
        QCOMPARE(f.maxRound, 1); // the random run has rounds 0..1
        const auto q0 = rowsWhere(f1, {{0, QStringLiteral("0")}, {1, QStringLiteral("Q")}});
        QCOMPARE(q0.size(), 1);
        QCOMPARE(q0[0][3], QStringLiteral("32"));
        const Figure one = buildFigure(QStringLiteral("super-survivors"), request({lab.impSst0}));
        QVERIFY(one.heatmaps.empty());
        QVERIFY(one.note.contains(QStringLiteral("two or more")));
    }

    void headSurvivalModes()
    {
        // Round 1 of the fixture removes head 0 of layer 0 whole (its Q/K/V rows, its columns of
        // the attention output): 128 of layer 0's 512 weights.
        FigureRequest r = request({lab.impSst0}, 1);
        r.headMode = QStringLiteral("structure");
        Figure f = buildFigure(QStringLiteral("head-survival"), r);
        QCOMPARE(f.heatmaps.size(), size_t(1));
        QCOMPARE(f.heatmaps[0].values, (std::vector<double>{0, 1, 1, 1}));
        QCOMPARE(f.heatmaps[0].notes[0], QStringLiteral("\u2020"));
        QVERIFY(f.heatmaps[0].title.contains(QStringLiteral("3/4 heads alive")));
        r.headMode = QStringLiteral("relative"); // layer 0 keeps 384 of 512 weights: density 0.75
        f = buildFigure(QStringLiteral("head-survival"), r);
        QCOMPARE(f.heatmaps[0].values[0], 0.0);
        QVERIFY(std::abs(f.heatmaps[0].values[1] - 1.0 / 0.75) < 1e-12);
        QCOMPARE(f.heatmaps[0].values[2], 1.0);
        r.headMode = QStringLiteral("importance"); // nothing stored in this lab
        f = buildFigure(QStringLiteral("head-survival"), r);
        QVERIFY(f.heatmaps.empty());
        QVERIFY(f.note.contains(QStringLiteral("No head importance stored")));
        r.headMode = QStringLiteral("bogus");
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("head-survival"), r));

        // Importance stored with round 0 of a run is what its round 1 was chosen by.
        const QString db = scienceLab();
        auto store = ExperimentStore::open(db.toStdString());
        const int64_t run = store->runs().back().id;
        UnitImportance u;
        u.heads = {{0.1, 0.99}, {0.6, 0.8}};
        storeUnitImportance(*store, run, 0, u, "train");
        FigureRequest ri;
        ri.db = db;
        ri.runs = {run};
        ri.round = 1;
        const Figure imp = buildFigure(QStringLiteral("head-importance"), ri);
        QCOMPARE(imp.heatmaps.size(), size_t(1));
        QCOMPARE(imp.heatmaps[0].values, (std::vector<double>{0.1, 0.99, 0.6, 0.8}));
        QVERIFY(imp.heatmaps[0].title.contains(QStringLiteral("scored after round 0")));
    }

    void headStabilityCountsRuns()
    {
        FigureRequest r = request({lab.impSst0, lab.impRte}, 1);
        const Figure f = buildFigure(QStringLiteral("head-stability"), r);
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QCOMPARE(p.values, (std::vector<double>{0, 2, 2, 2})); // both removed head 0 of layer 0
        QCOMPARE(p.tooltips[0], QStringLiteral("kept by none"));
        QVERIFY(p.tooltips[1].contains(QStringLiteral("SST-2")) && p.tooltips[1].contains(QStringLiteral("RTE")));
        QCOMPARE(p.vmax, 2.0);
        // The cell under the mouse says so.
        QCustomPlot plot;
        plot.resize(kFigureWidth, kFigureHeight);
        drawFigure(&plot, f);
        plot.replot();
        QCPAxisRect *rect = nullptr;
        for (QCPAxisRect *a : plot.axisRects())
            if (a->property("tlHeatmap").isValid())
                rect = a;
        QVERIFY(rect);
        const QPointF cell(rect->axis(QCPAxis::atBottom)->coordToPixel(1),
                           rect->axis(QCPAxis::atLeft)->coordToPixel(1));
        const QString text = heatmapCellText(&plot, f, cell); // row 0 is drawn at the top: y = 1
        QVERIFY2(text.startsWith(QStringLiteral("Layer 0, Head 1: 2")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("kept by")));
        QVERIFY(heatmapCellText(&plot, f, QPointF(1, 1)).isEmpty());
        // One run is not a comparison.
        QVERIFY(buildFigure(QStringLiteral("head-stability"), request({lab.impSst0})).heatmaps.empty());
    }

    void metricAgainstHeadsRemoved()
    {
        FigureRequest r = request({lab.impSst0, lab.impSst1});
        r.xAxis = QStringLiteral("heads");
        const Figure f = buildFigure(QStringLiteral("metric-vs-sparsity"), r);
        QCOMPARE(f.lines.size(), size_t(1));
        // Rounds 0..3 of the fixture remove 0, 1, 1 and 1 of the 4 heads.
        QCOMPARE(f.lines[0].series[0].x, (std::vector<double>{0, 0.25, 0.25, 0.25}));
        QVERIFY(f.lines[0].xLabel.contains(QStringLiteral("heads")));
        QCOMPARE(rowsWhere(f, {{7, QStringLiteral("0.25")}}).size(), 3);
        r.xAxis = QStringLiteral("layers");
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("metric-vs-sparsity"), r));
    }

    void headsOfACompactedModel()
    {
        // A run on a compacted model: config pruned_heads {"0": [0]}, so layer 0 has one head of
        // d = 4 left (Q, K, V [4, 8], attention output [8, 4]). Round 1 prunes rows 4 and 5 of
        // layer 1's Q: head 1 keeps 112 of its 128 weights.
        const QString db = dir.filePath(QStringLiteral("compacted.db"));
        auto store = ExperimentStore::open(db.toStdString());
        std::string config = test::fixtureConfigJson();
        config.insert(config.rfind('}'), R"(, "pruned_heads": {"0": [0]})");
        const int64_t model = store->upsertModel({0, "/models/compact", config, "hash-compact"});
        MaskSet dense = test::fixtureDenseMask();
        for (MaskTensor &t : dense.tensors)
            if (t.name.rfind("bert.encoder.layer.0.attention.", 0) == 0) {
                t.shape = t.name.find("output.dense") != std::string::npos ? std::vector<int64_t>{8, 4}
                                                                           : std::vector<int64_t>{4, 8};
                t.keep.assign(32, 1);
            }
        MaskSet round1 = dense;
        MaskTensor *q = round1.find("bert.encoder.layer.1.attention.self.query.weight");
        std::fill(q->keep.begin() + 4 * 8, q->keep.begin() + 6 * 8, uint8_t(0));
        PruneOrder order = PruneOrder::fromMask(dense);
        order.record(round1, 1);
        const int64_t run = tltest::RunBuilder(RunKind::Imp, "SST-2")
                                .model(model)
                                .order(order)
                                .rounds({{0, 0.9}, {round1.sparsity(), 0.85}})
                                .create(*store);
        FigureRequest r;
        r.db = db;
        r.runs = {run};
        r.round = 1;
        Figure f = buildFigure(QStringLiteral("head-survival"), r);
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QCOMPARE(p.rows(), 2);
        QCOMPARE(p.cols(), 2); // the original model's 2 x 2 grid
        QVERIFY(std::isnan(p.values[0]));
        QCOMPARE(p.notes[0], QStringLiteral("\u00d7"));
        QCOMPARE(p.values[1], 1.0);
        QCOMPARE(p.values[2], 1.0);
        QCOMPARE(p.values[3], 112.0 / 128.0);
        QVERIFY2(p.title.contains(QStringLiteral("3/4 heads alive")), qPrintable(p.title));
        QCOMPARE(rowsWhere(f, {{3, QStringLiteral("0")}, {4, QStringLiteral("0")}})[0][5], QStringLiteral("0"));
        r.headMode = QStringLiteral("structure");
        f = buildFigure(QStringLiteral("head-survival"), r);
        QCOMPARE(f.heatmaps[0].values, (std::vector<double>{0, 1, 1, 1}));
        QCOMPARE(f.heatmaps[0].notes[0], QStringLiteral("\u00d7"));
        r.headMode = QStringLiteral("relative");
        QCOMPARE(buildFigure(QStringLiteral("head-survival"), r).heatmaps.size(), size_t(1));
        // Importance scored on the compacted model has one score in layer 0: its head 1's.
        UnitImportance u;
        u.heads = {{0.7}, {0.2, 0.9}};
        storeUnitImportance(*store, run, 0, u, "train");
        const Figure imp = buildFigure(QStringLiteral("head-importance"), r);
        QVERIFY(std::isnan(imp.heatmaps[0].values[0]));
        QCOMPARE(imp.heatmaps[0].values[1], 0.7);
        QCOMPARE(imp.heatmaps[0].values[3], 0.9);
        // The heads axis counts the head the model lacks as removed: 1 of 4 in both rounds.
        FigureRequest m;
        m.db = db;
        m.runs = {run};
        m.xAxis = QStringLiteral("heads");
        QCOMPARE(buildFigure(QStringLiteral("metric-vs-sparsity"), m).lines[0].series[0].x,
                 (std::vector<double>{0.25, 0.25}));
    }
};

QTEST_MAIN(TestScienceFigures)
#include "tst_sciencefigures.moc"

// Figures: numbers computed from a hand-made store, drawing, and PDF/SVG/PNG export, plus the
// headless `ticketlab export-figure` command. The mask-science and head figures' numbers are in
// tst_sciencefigures.

#include <QDomDocument>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "plots/qcp.h"

#include "figuretestutil.h"
#include "analysis/structure.h"
#include "util/error.h"

using namespace tl;
using namespace tl::ui;
using test::csvRows;
using test::rowsWhere;

class TestFigures : public QObject, private test::FigureLab
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(open()); }

    void sparsityHeatmapNumbers()
    {
        const Figure f = buildFigure(QStringLiteral("sparsity-heatmap"), request({lab.impSst0}, 2));
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QCOMPARE(p.rows(), 3); // layers 0, 1 and the pooler
        QCOMPARE(p.cols(), 6);
        // Round 2: layer 0 lost half of Q, K, V, AttnOut (head 0) and FFN-in; layer 1 half its FFN-in.
        const double expected0[] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.0};
        for (int c = 0; c < 6; ++c)
            QCOMPARE(p.values[size_t(c)], expected0[c]);
        QCOMPARE(p.values[size_t(6 + 4)], 0.5);
        QCOMPARE(p.values[size_t(6 + 0)], 0.0);
        QCOMPARE(p.values[size_t(12)], 0.0); // pooler untouched until round 3
        QCOMPARE(f.maxRound, 3);
        const auto ffn = rowsWhere(f, {{3, QStringLiteral("0")}, {4, QStringLiteral("FFN-in")}});
        QCOMPARE(ffn.size(), 1);
        QCOMPARE(ffn[0][5], QStringLiteral("128"));
        QCOMPARE(ffn[0][6], QStringLiteral("64"));
    }

    void sparsityRoundsNumbers()
    {
        FigureRequest r = request({lab.impSst0});
        r.matrixType = QStringLiteral("ffn-in");
        const Figure f = buildFigure(QStringLiteral("sparsity-rounds"), r);
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QCOMPARE(p.cols(), 4); // rounds 0..3
        QCOMPARE(p.rows(), 2);
        const double layer0[] = {0, 0, 0.5, 0.5};
        for (int c = 0; c < 4; ++c)
            QCOMPARE(p.values[size_t(c)], layer0[c]);
        r.matrixType = QStringLiteral("nonsense");
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("sparsity-rounds"), r));
    }

    void headSurvivalNumbers()
    {
        FigureRequest r = request({lab.impSst0, lab.impRte}, 1);
        r.headThreshold = 0.5;
        const Figure f = buildFigure(QStringLiteral("head-survival"), r);
        QCOMPARE(f.heatmaps.size(), size_t(2)); // two runs side by side
        for (const HeatmapPanel &p : f.heatmaps) {
            QCOMPARE(p.rows(), 2);
            QCOMPARE(p.cols(), 2);
            QCOMPARE(p.values[0], 0.0); // layer 0 head 0: rows of Q, K, V and columns of AttnOut all pruned
            QCOMPARE(p.values[1], 1.0);
            QCOMPARE(p.values[2], 1.0);
            // The round's sparsity (128 of 1088 prunable weights), then the heads on a second line.
            QVERIFY2(p.title.endsWith(QStringLiteral(", round 1 (11.8% pruned)\n3/4 heads alive")),
                     qPrintable(p.title));
        }
        const auto dead =
            rowsWhere(f, {{0, QString::number(lab.impSst0)}, {3, QStringLiteral("0")}, {4, QStringLiteral("0")}});
        QCOMPARE(dead.size(), 1);
        QCOMPARE(dead[0][5], QStringLiteral("128")); // 3 x 4 rows x 8 + 8 rows x 4 columns
        QCOMPARE(dead[0][6], QStringLiteral("0"));
        QCOMPARE(dead[0][8], QStringLiteral("0"));
        // Round out of range names the run.
        try {
            buildFigure(QStringLiteral("head-survival"), request({lab.impRte}, 7));
            QFAIL("expected an error");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("run %1").arg(lab.impRte)), e.what());
        }
    }

    void metricVsSparsity()
    {
        const Figure f = buildFigure(QStringLiteral("metric-vs-sparsity"), request());
        QCOMPARE(f.lines.size(), size_t(2)); // RTE, SST-2
        const LinePanel *sst = nullptr;
        for (const LinePanel &p : f.lines)
            if (p.title == QLatin1String("SST-2"))
                sst = &p;
        QVERIFY(sst);
        QCOMPARE(sst->yLabel, QStringLiteral("Dev accuracy")); // SST-2's main metric, named
        QVERIFY(sst->refMean);
        QCOMPARE(*sst->refMean, 0.91);
        QVERIFY(std::abs(sst->refStd - std::sqrt(0.0002)) < 1e-12);
        const LineSeries *imp = nullptr;
        for (const LineSeries &s : sst->series)
            if (s.name == QLatin1String("IMP"))
                imp = &s;
        QVERIFY(imp);
        QCOMPARE(imp->x.size(), size_t(4));
        QVERIFY(std::abs(imp->y[1] - 0.90) < 1e-9); // (0.89 + 0.91) / 2
        QVERIFY(std::abs(imp->hi[1] - imp->y[1] - std::sqrt(0.0002)) < 1e-9);
        // Winning ticket (within one std of 0.91): round 1 at 128/1088 sparsity, not round 2 (0.89).
        QCOMPARE(sst->marks.size(), size_t(1));
        QVERIFY(std::abs(sst->marks[0].x - 128.0 / 1088.0) < 1e-6);
        QCOMPARE(sst->series.size(), size_t(2)); // IMP and random pruning
        QVERIFY(f.latex.contains(QStringLiteral("\\toprule")));
        QVERIFY(f.latex.contains(QStringLiteral("random pruning")));
        QVERIFY(f.latex.contains(QStringLiteral("$0.900 \\pm 0.014$")));
    }

    /// A chosen set of runs (a study's, beside other runs of the task in the lab) is marked with
    /// its own ticket, against its own full runs, under the requested criterion.
    void ticketFollowsRequestedRuns()
    {
        auto sstPanel = [](const Figure &f) -> const LinePanel & {
            for (const LinePanel &p : f.lines)
                if (p.title == QLatin1String("SST-2"))
                    return p;
            throw Error("no SST-2 panel");
        };
        FigureRequest r = request();
        // The whole lab: both IMP seeds (0.91, 0.90, 0.89, 0.71) against both full runs
        // (0.91 ± 0.014): the ticket is round 1.
        r.runs = {};
        const Figure allFigure = buildFigure(QStringLiteral("metric-vs-sparsity"), r);
        const LinePanel &all = sstPanel(allFigure);
        QCOMPARE(all.marks.size(), size_t(1));
        const double round1 = all.series[0].x[1], round2 = all.series[0].x[2];
        QVERIFY(std::abs(all.marks[0].x - round1) < 1e-9);
        // Seed 1's IMP run alone (0.92, 0.91, 0.90, 0.72), against the lab's full runs (none
        // requested): 0.90 >= 0.91 - 0.014, so round 2.
        r.runs = {lab.impSst1};
        const Figure seed1Figure = buildFigure(QStringLiteral("metric-vs-sparsity"), r);
        const LinePanel &seed1 = sstPanel(seed1Figure);
        QCOMPARE(seed1.refLabel, QStringLiteral("full model (mean \u00b1 std, n=2)"));
        QCOMPARE(seed1.marks.size(), size_t(1));
        QVERIFY(std::abs(seed1.marks[0].x - round2) < 1e-9);
        QVERIFY(std::abs(seed1.marks[0].y - 0.90) < 1e-9);
        // Seed 0's IMP run with seed 0's full run (0.90, n=1): rounds 0 (0.90) only; round 1's
        // 0.89 would pass against both full runs.
        r.runs = {lab.impSst0, lab.fullSst};
        const Figure seed0Figure = buildFigure(QStringLiteral("metric-vs-sparsity"), r);
        const LinePanel &seed0 = sstPanel(seed0Figure);
        QVERIFY(seed0.refMean);
        QCOMPARE(*seed0.refMean, 0.90);
        QCOMPARE(seed0.refLabel, QStringLiteral("full model (mean \u00b1 std, n=1)"));
        QCOMPARE(seed0.marks.size(), size_t(1));
        QCOMPARE(seed0.marks[0].x, 0.0);
        // The strict criterion: seed 1 against both full runs (0.91): round 1 (0.91), not 2.
        r.runs = {lab.impSst1};
        r.criterion = QStringLiteral("match");
        const Figure strictFigure = buildFigure(QStringLiteral("metric-vs-sparsity"), r);
        const LinePanel &strict = sstPanel(strictFigure);
        QCOMPARE(strict.marks.size(), size_t(1));
        QVERIFY(std::abs(strict.marks[0].x - round1) < 1e-9);
        r.criterion = QStringLiteral("best");
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("metric-vs-sparsity"), r));
    }

    void overlapMatrix()
    {
        const Figure f =
            buildFigure(QStringLiteral("overlap-matrix"), request({lab.impSst0, lab.impSst1, lab.randomSst}, 1));
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QCOMPARE(p.rows(), 3);
        // The fixture's masks are equal at round 1: IoU 1 everywhere.
        for (double v : p.values)
            QCOMPARE(v, 1.0);
        // Chance level for two masks with per-tensor densities p: sum n p^2 / sum n (2p - p^2).
        // Round 1: Q, K, V of layer 0 at p = 0.5 (64 weights each), AttnOut 0.5, the rest 1.
        const double n = 64;
        const double num = 4 * n * 0.25 + (1088 - 4 * n);
        const double den = 4 * n * 0.75 + (1088 - 4 * n);
        const auto pair = rowsWhere(f, {{0, QString::number(lab.impSst0)}, {4, QString::number(lab.impSst1)}});
        QCOMPARE(pair.size(), 1);
        QVERIFY2(std::abs(pair[0][9].toDouble() - num / den) < 1e-9, qPrintable(pair[0][9]));
        QVERIFY(f.latex.contains(QStringLiteral("\\bottomrule")));
        const Figure one = buildFigure(QStringLiteral("overlap-matrix"), request({lab.impSst0}));
        QVERIFY(one.heatmaps.empty());
        QVERIFY(!one.note.isEmpty());
    }

    void overlapAtCommonSparsity()
    {
        // By default every run's round nearest the highest sparsity all reached: the random run
        // stops at round 1 (128/1088 = 11.8 %), so the IMP runs are compared at their round 1,
        // not at their last rounds (23.5 %, 35.3 %); the transfer trained its round 2 only.
        const Figure f = buildFigure(QStringLiteral("overlap-matrix"),
                                     request({lab.impSst0, lab.impRte, lab.randomSst, lab.transfer}));
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QVERIFY2(p.title.contains(QStringLiteral("11.8%")), qPrintable(p.title));
        QCOMPARE(p.xTicks[0], QStringLiteral("SST-2 imp #%1 (seed 0), round 1, 11.8%").arg(lab.impSst0));
        QCOMPARE(p.xTicks[3], QStringLiteral("RTE transfer #%1 (seed 0), round 2, 23.5%").arg(lab.transfer));
        const auto rows = rowsWhere(f, {{0, QString::number(lab.impSst0)}, {4, QString::number(lab.randomSst)}});
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows[0][2], QStringLiteral("1"));
        QVERIFY(std::abs(rows[0][3].toDouble() - 128.0 / 1088.0) < 1e-9);
        QCOMPARE(p.values[1], 1.0); // the same masks at the same sparsity
        // An explicit round still rules.
        const Figure r2 = buildFigure(QStringLiteral("overlap-matrix"), request({lab.impSst0, lab.impRte}, 2));
        QVERIFY(r2.heatmaps[0].xTicks[0].endsWith(QStringLiteral(", round 2, 23.5%")));
    }

    void overlapDefaultsToEveryKind()
    {
        // More finished IMP runs than the figure shows: the other kinds still get their place.
        QTemporaryDir dir;
        const std::string db = dir.filePath(QStringLiteral("kinds.db")).toStdString();
        const test::LabFixture lab = test::writeLabFixture(db);
        int64_t shuffle = 0;
        {
            auto store = ExperimentStore::open(db);
            test::FixtureWriter w{*store, 1, "/models/tiny-bert"};
            shuffle = w.finishedRun(tl::RunKind::Shuffle, "SST-2", 1, 0, {0.7, 0.6}, true);
            for (int seed = 2; seed < 10; ++seed)
                w.finishedRun(tl::RunKind::Imp, "SST-2", 1, uint64_t(seed), {0.9, 0.9}, true);
        }
        FigureRequest r;
        r.db = QString::fromStdString(db);
        const Figure f = buildFigure(QStringLiteral("overlap-matrix"), r);
        QCOMPARE(f.heatmaps[0].cols(), 8);
        const QString ticks = f.heatmaps[0].xTicks.join(QLatin1Char('|'));
        for (qint64 id : {qint64(shuffle), qint64(lab.randomSst), qint64(lab.transfer)})
            QVERIFY2(ticks.contains(QStringLiteral("#%1 ").arg(id)), qPrintable(ticks));
        QVERIFY2(ticks.contains(QStringLiteral(" imp #")), qPrintable(ticks));
    }

    void twoModelsNeverMix()
    {
        QTemporaryDir dir;
        const std::string db = dir.filePath(QStringLiteral("two.db")).toStdString();
        test::writeLabFixture(db);
        const test::SecondModel base = test::addSecondModel(db);
        FigureRequest r;
        r.db = QString::fromStdString(db);
        // One panel per (model, task), each with its own full model.
        const Figure f = buildFigure(QStringLiteral("metric-vs-sparsity"), r);
        QStringList titles;
        for (const LinePanel &p : f.lines)
            titles << p.title;
        QCOMPARE(titles,
                 (QStringList{QStringLiteral("RTE \u2014 base-bert"), QStringLiteral("SST-2 \u2014 base-bert"),
                              QStringLiteral("RTE \u2014 tiny-bert"), QStringLiteral("SST-2 \u2014 tiny-bert")}));
        const LinePanel &baseSst = f.lines[1];
        QVERIFY(baseSst.refMean);
        QVERIFY(std::abs(*baseSst.refMean - 0.81) < 1e-9);
        QCOMPARE(baseSst.series.size(), size_t(1));
        QCOMPARE(baseSst.series[0].y[2], 0.75); // one seed: nothing averaged in from tiny-bert
        QCOMPARE(baseSst.marks.size(), size_t(1));
        QVERIFY(std::abs(baseSst.marks[0].x - 128.0 / 1088.0) < 1e-6); // 0.80 >= 0.81 - 0.014
        const LinePanel &tinySst = f.lines[3];
        QCOMPARE(*tinySst.refMean, 0.91);
        QVERIFY(std::abs(tinySst.series[0].y[1] - 0.90) < 1e-9);
        QCOMPARE(rowsWhere(f, {{0, QStringLiteral("base-bert")}}).size(), 4 + 1); // IMP x4, transfer
        // The transfer matrix: one panel per model, each against its own full model.
        const Figure t = buildFigure(QStringLiteral("transfer-matrix"), r);
        QCOMPARE(t.heatmaps.size(), size_t(2));
        QVERIFY(t.heatmaps[0].title.startsWith(QStringLiteral("base-bert")));
        QCOMPARE(t.heatmaps[0].yTicks, QStringList{QStringLiteral("SST-2 @ 23.5%")});
        QVERIFY(std::abs(t.heatmaps[0].values[0] - (0.52 - 0.50)) < 1e-9);
        QCOMPARE(t.heatmaps[0].notes[0], QString()); // base-bert has no IMP run on RTE
        QVERIFY(std::abs(t.heatmaps[1].values[0] - (0.57 - 0.60)) < 1e-9);
        QCOMPARE(t.heatmaps[1].notes[0], QStringLiteral("*"));
        QCOMPARE(rowsWhere(t, {{0, QStringLiteral("base-bert")}, {4, QStringLiteral("RTE")}}).size(), 1);
        Q_UNUSED(base);
    }

    void unknownMetricIsAnError()
    {
        FigureRequest r = request();
        r.metric = QStringLiteral("bogus");
        for (const QString &name : {QStringLiteral("metric-vs-sparsity"), QStringLiteral("transfer-matrix")}) {
            try {
                buildFigure(name, r);
                QFAIL("expected an error");
            } catch (const Error &e) {
                QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("accuracy, main")), e.what());
            }
        }
        r.metric = QStringLiteral("accuracy");
        QCOMPARE(buildFigure(QStringLiteral("metric-vs-sparsity"), r).lines.size(), size_t(2));
    }

    void transferMatrix()
    {
        const Figure f = buildFigure(QStringLiteral("transfer-matrix"), request());
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QCOMPARE(p.yTicks, QStringList{QStringLiteral("SST-2 @ 23.5%")});
        QCOMPARE(p.xTicks, QStringList{QStringLiteral("RTE")});
        QVERIFY(std::abs(p.values[0] - (0.57 - 0.60)) < 1e-9);
        QCOMPARE(p.notes[0], QStringLiteral("*")); // 0.57 >= RTE's own ticket 0.55 at that sparsity
        QVERIFY(p.diverging);
        QVERIFY(f.latex.contains(QStringLiteral("$^{*}$")));
    }

    void trainingCurves()
    {
        const Figure f = buildFigure(QStringLiteral("training-curves"), request({lab.impSst0}));
        QCOMPARE(f.lines.size(), size_t(2));
        QCOMPARE(f.lines[0].series.size(), size_t(1));
        QCOMPARE(f.lines[0].series[0].x.size(), size_t(40)); // 4 rounds x 10 steps, end to end
        QCOMPARE(f.lines[0].series[0].x.back(), 40.0);
        QCOMPARE(csvRows(f).size(), 41);
    }

    void trainingCurvesOfOneTask()
    {
        // No runs chosen: the runs of the newest run's task (RTE: IMP and the full model; the
        // transfer logged no curve), not only the newest run.
        const Figure f = buildFigure(QStringLiteral("training-curves"), request());
        QVERIFY(f.title.contains(QStringLiteral("RTE")));
        QStringList names;
        for (const LineSeries &s : f.lines[0].series)
            names << s.name;
        QCOMPARE(names, (QStringList{QStringLiteral("RTE imp #%1 (seed 0)").arg(lab.impRte),
                                     QStringLiteral("RTE full #%1 (seed 0)").arg(lab.fullRte)}));
        // Chosen runs are all shown.
        QCOMPARE(
            buildFigure(QStringLiteral("training-curves"), request({lab.impSst0, lab.impSst1})).lines[0].series.size(),
            size_t(2));
    }

    void degenerateAxesStayReadable()
    {
        // Every point at one sparsity and one value (transfers of one mask, two seeds each):
        // the ticks stay distinct on both axes, and the full model's band (std 0.038) spans
        // the plot instead of being a speck at one x.
        QTemporaryDir dir;
        const std::string db = dir.filePath(QStringLiteral("one.db")).toStdString();
        QList<qint64> transfers;
        {
            auto store = ExperimentStore::open(db);
            const int64_t model = store->upsertModel({0, "/models/m", test::fixtureConfigJson(), "h"});
            test::FixtureWriter w{*store, model, "/models/m"};
            const int64_t src = w.finishedRun(tl::RunKind::Imp, "SST-2", 0, 0, {0.9, 0.9}, true);
            for (const char *task : {"MRPC", "MRPC", "RTE", "RTE"})
                transfers << w.transferRun(src, 1, task, 0, 0.812227);
            w.finishedRun(tl::RunKind::Full, "RTE", 0, 0, {0.79}, false);
            w.finishedRun(tl::RunKind::Full, "RTE", 0, 1, {0.8437}, false);
        }
        FigureRequest r;
        r.db = QString::fromStdString(db);
        r.runs = transfers;
        const Figure f = buildFigure(QStringLiteral("metric-vs-sparsity"), r);
        QCOMPARE(f.lines.size(), size_t(2)); // MRPC (no full model), RTE
        const double refStd = std::abs(0.8437 - 0.79) / std::sqrt(2.0);
        QVERIFY(std::abs(f.lines[1].refStd - refStd) < 1e-9);
        QCustomPlot plot;
        plot.resize(kFigureWidth, kFigureHeight);
        plot.setViewport(QRect(0, 0, kFigureWidth, kFigureHeight));
        drawFigure(&plot, f);
        plot.replot();
        const QList<QCPAxisRect *> rects = plot.axisRects();
        QCOMPARE(rects.size(), 2);
        for (QCPAxisRect *rect : rects) {
            for (QCPAxis *axis : {rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft)}) {
                const QVector<QString> labels = axis->tickVectorLabels();
                QVERIFY2(labels.size() >= 3,
                         qPrintable(QStringList(labels.begin(), labels.end()).join(QLatin1Char(' '))));
                const QSet<QString> distinct(labels.begin(), labels.end());
                QVERIFY2(distinct.size() == labels.size(),
                         qPrintable(QStringList(labels.begin(), labels.end()).join(QLatin1Char(' '))));
            }
            QVERIFY(rect->axis(QCPAxis::atBottom)->range().contains(100.0 * 128 / 1088));
            QVERIFY(rect->axis(QCPAxis::atLeft)->range().contains(0.812227));
        }
        // The band: from the left edge of the x axis to its right edge, mean +- std high.
        const QCPRange x = rects[1]->axis(QCPAxis::atBottom)->range();
        const QCPRange y = rects[1]->axis(QCPAxis::atLeft)->range();
        QVERIFY(x.size() >= 1.0);
        QVERIFY(y.contains(0.81685 - refStd) && y.contains(0.81685 + refStd));
        bool band = false;
        for (int i = 0; i < plot.graphCount(); ++i) {
            QCPGraph *g = plot.graph(i);
            if (!g->channelFillGraph() || g->keyAxis() != rects[1]->axis(QCPAxis::atBottom) || g->data()->size() != 2)
                continue;
            const auto hi = g->data()->at(0), lo = g->channelFillGraph()->data()->at(0);
            if (std::abs(hi->value - lo->value - 2 * refStd) > 1e-9)
                continue;
            band = true;
            QCOMPARE(hi->key, x.lower);
            QCOMPARE(g->data()->at(1)->key, x.upper);
        }
        QVERIFY(band);
    }

    void legendsInsideWideWindow()
    {
        // A wide window (1600 px): every legend, its border included, lies inside the plot.
        QTemporaryDir dir;
        const std::string db = dir.filePath(QStringLiteral("two.db")).toStdString();
        test::writeLabFixture(db);
        test::addSecondModel(db);
        FigureRequest r;
        r.db = QString::fromStdString(db);
        const Figure f = buildFigure(QStringLiteral("metric-vs-sparsity"), r);
        for (const QSize size : {QSize(1600, 900), QSize(1200, 800), QSize(kFigureWidth, kFigureHeight)}) {
            QCustomPlot plot;
            plot.resize(size);
            plot.setViewport(QRect(QPoint(0, 0), size)); // a hidden widget gets its size only when shown
            drawFigure(&plot, f);
            plot.replot();
            const QImage image = plot.toPixmap(size.width(), size.height()).toImage();
            int legends = 0;
            for (QCPLayoutElement *e : plot.plotLayout()->elements(true)) {
                auto *legend = qobject_cast<QCPLegend *>(e);
                if (!legend || !legend->visible())
                    continue;
                ++legends;
                // drawRect() puts the right and bottom border lines at x + width, y + height.
                const QRect rect = legend->outerRect();
                const QString where = QStringLiteral("%1x%2: legend at %3,%4 %5x%6")
                                          .arg(size.width())
                                          .arg(size.height())
                                          .arg(rect.x())
                                          .arg(rect.y())
                                          .arg(rect.width())
                                          .arg(rect.height());
                QVERIFY2(rect.x() >= 0 && rect.x() + rect.width() < size.width() &&
                             rect.y() + rect.height() < size.height(),
                         qPrintable(where));
                const QColor border = image.pixelColor(rect.x() + rect.width(), rect.y() + rect.height() / 2);
                QVERIFY2(border.lightness() < 240, qPrintable(where + QStringLiteral(": no right border drawn")));
                for (int i = 0; i < legend->itemCount(); ++i)
                    QVERIFY(rect.contains(legend->item(i)->outerRect()));
            }
            QCOMPARE(legends, int(f.lines.size()));
        }
    }

    void unknownFigureAndRun()
    {
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("pie-chart"), request()));
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("head-survival"), request({9999})));
        FigureRequest missing = request();
        missing.db = dir.filePath(QStringLiteral("absent.db"));
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("head-survival"), missing));
        QVERIFY(!QFile::exists(missing.db)); // never created by a figure
    }

    void exportsEveryFigure_data()
    {
        QTest::addColumn<QString>("name");
        for (const QString &n : figureNames())
            QTest::newRow(qPrintable(n)) << n;
    }

    void exportsEveryFigure()
    {
        QFETCH(QString, name);
        FigureRequest req = request();
        if (name == QLatin1String("weight-histogram")) // needs a model folder on this machine
            req.db = histogramLab().first;
        if (name == QLatin1String("early-bird") || name == QLatin1String("sensitivity"))
            req.db = scienceLab();
        if (name == QLatin1String("super-survivors") || name == QLatin1String("head-stability"))
            req.runs = {lab.impSst0, lab.impRte};
        if (name == QLatin1String("head-importance")) { // needs stored importance
            req.db = scienceLab();
            auto store = ExperimentStore::open(req.db.toStdString());
            UnitImportance u;
            u.heads = {{0.5, 0.5}, {0.2, 0.9}};
            storeUnitImportance(*store, store->runs().back().id, 0, u, "train");
        }
        const Figure f = buildFigure(name, req);
        QVERIFY2(!f.heatmaps.empty() || !f.lines.empty(), qPrintable(name + QStringLiteral(": ") + f.note));
        QCustomPlot plot;
        plot.resize(kFigureWidth, kFigureHeight);
        drawFigure(&plot, f);
        plot.replot();
        const QString base = dir.filePath(name);
        QString error;
        for (const QString &suffix : {QStringLiteral("pdf"), QStringLiteral("svg"), QStringLiteral("png")})
            QVERIFY2(exportFigure(&plot, f, base + QLatin1Char('.') + suffix, 150, &error), qPrintable(error));
        QFile pdf(base + QStringLiteral(".pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        const QByteArray pdfBytes = pdf.readAll();
        QVERIFY(pdfBytes.startsWith("%PDF-"));
        QVERIFY(pdfBytes.trimmed().endsWith("%%EOF"));
        QFile svg(base + QStringLiteral(".svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QDomDocument doc;
        QVERIFY(doc.setContent(&svg));
        QCOMPARE(doc.documentElement().tagName(), QStringLiteral("svg"));
        QVERIFY(doc.elementsByTagName(QStringLiteral("text")).size() > 3); // axis labels and ticks as text
        const QImage png(base + QStringLiteral(".png"));
        QVERIFY(!png.isNull());
        QCOMPARE(png.width(), kFigureWidth * 150 / 96);
        // Not a blank page: some pixels are neither white nor transparent.
        int coloured = 0;
        for (int y = 0; y < png.height(); y += 4)
            for (int x = 0; x < png.width(); x += 4)
                coloured += png.pixelColor(x, y).lightness() < 200;
        QVERIFY(coloured > 100);
        QFile csv(base + QStringLiteral(".csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(csv.readAll()), f.csv);
        QCOMPARE(QFile::exists(base + QStringLiteral(".tex")), !f.latex.isEmpty());
    }

    void exportRefusesUnknownFormat()
    {
        const Figure f = buildFigure(QStringLiteral("head-survival"), request());
        QCustomPlot plot;
        drawFigure(&plot, f);
        QString error;
        QVERIFY(!exportFigure(&plot, f, dir.filePath(QStringLiteral("x.bmp")), 96, &error));
        QVERIFY(error.contains(QStringLiteral("bmp")));
    }

    void headlessCommand()
    {
        const QString exe = QStringLiteral(TICKETLAB_GUI);
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("DISPLAY"));
        env.remove(QStringLiteral("QT_QPA_PLATFORM")); // the command must pick offscreen itself
        p.setProcessEnvironment(env);
        const QString outDir = dir.filePath(QStringLiteral("figs"));
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), db, QStringLiteral("--figure"),
                      QStringLiteral("all"), QStringLiteral("--out-dir"), outDir});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        for (const QString &n : figureNames())
            for (const QString &s :
                 {QStringLiteral("pdf"), QStringLiteral("svg"), QStringLiteral("png"), QStringLiteral("csv")})
                QVERIFY2(QFile::exists(outDir + QLatin1Char('/') + n + QLatin1Char('.') + s), qPrintable(n + s));
        // One figure to one file, for chosen runs and round.
        const QString one = dir.filePath(QStringLiteral("heads.svg"));
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), db, QStringLiteral("--figure"),
                      QStringLiteral("head-survival"), QStringLiteral("--runs"), QString::number(lab.impRte),
                      QStringLiteral("--round"), QStringLiteral("1"), QStringLiteral("--out"), one});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(QFile::exists(one));
        // Errors name what is wrong.
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), db, QStringLiteral("--figure"),
                      QStringLiteral("head-survival"), QStringLiteral("--round"), QStringLiteral("9"),
                      QStringLiteral("--out"), one});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QStringLiteral("rounds 0..")));
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), db, QStringLiteral("--figure"),
                      QStringLiteral("bogus"), QStringLiteral("--out"), one});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QStringLiteral("unknown figure 'bogus'")));
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), db, QStringLiteral("--figure"),
                      QStringLiteral("metric-vs-sparsity"), QStringLiteral("--criterion"), QStringLiteral("best"),
                      QStringLiteral("--out"), one});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(QString::fromUtf8(p.readAllStandardError())
                    .contains(QStringLiteral("--criterion: 'best' is not one of within_std, match")));
        // A missing database: one error, nothing created (no output folder, no database).
        const QString missing = dir.filePath(QStringLiteral("missing.db"));
        const QString noDir = dir.filePath(QStringLiteral("never"));
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), missing, QStringLiteral("--figure"),
                      QStringLiteral("all"), QStringLiteral("--out-dir"), noDir});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QStringList errors; // Qt's own warnings (XDG_RUNTIME_DIR) aside
        for (const QString &line : QString::fromUtf8(p.readAllStandardError()).split(QLatin1Char('\n')))
            if (line.startsWith(QStringLiteral("ticketlab export-figure:")))
                errors << line;
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors[0].contains(missing), qPrintable(errors[0]));
        QVERIFY(!QFileInfo::exists(noDir));
        QVERIFY(!QFileInfo::exists(missing));
        // A bad --format is found before the folder is made, too.
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), db, QStringLiteral("--figure"),
                      QStringLiteral("all"), QStringLiteral("--out-dir"), noDir, QStringLiteral("--format"),
                      QStringLiteral("pdf,bmp")});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(!QFileInfo::exists(noDir));
    }
};

QTEST_MAIN(TestFigures)
#include "tst_figures.moc"

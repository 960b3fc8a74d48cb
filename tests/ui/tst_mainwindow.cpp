// The main window on a fixture database: the browser fills, every view draws its figure,
// selecting runs re-targets the views, and writes from another connection show up.

#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

#include "plots/qcp.h"

#include "labfixture.h"
#include "mainwindow.h"
#include "models/runtreemodel.h"
#include "panels/browserpanel.h"
#include "panels/figurepanel.h"
#include "plots/figure.h"

using namespace tl;
using namespace tl::ui;

namespace {

// The fixture's IMP masks (labfixture.h) remove 128, 256 and 320 of 1088 weights in rounds 1-3.
const double kRound1 = 100.0 * 128 / 1088, kRound2 = 100.0 * 256 / 1088, kRound3 = 100.0 * 320 / 1088;

/// The graphs of a plot with this legend name, in drawing order (one per panel).
QList<const QCPGraph *> graphsNamed(QCustomPlot *plot, const QString &name)
{
    QList<const QCPGraph *> out;
    for (int i = 0; i < plot->graphCount(); ++i)
        if (plot->graph(i)->name() == name)
            out << plot->graph(i);
    return out;
}

/// The legend entries of the graphs drawn in one axis rect, in legend order.
QStringList namesIn(QCustomPlot *plot, const QCPAxisRect *rect)
{
    QStringList out;
    for (QCPLayoutElement *e : plot->plotLayout()->elements(true))
        if (auto *legend = qobject_cast<QCPLegend *>(e))
            for (int i = 0; i < legend->itemCount(); ++i)
                if (auto *item = qobject_cast<QCPPlottableLegendItem *>(legend->item(i)))
                    if (item->plottable()->keyAxis()->axisRect() == rect)
                        out << item->plottable()->name();
    return out;
}

/// Compares a drawn graph with (x, y) points.
bool samePoints(const QCPGraph *g, const QList<QPointF> &want)
{
    QList<QPointF> got;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
        got << QPointF(it->key, it->value);
    if (got.size() != want.size()) {
        qWarning() << g->name() << "points" << got << "expected" << want;
        return false;
    }
    for (int i = 0; i < got.size(); ++i)
        if (std::abs(got[i].x() - want[i].x()) > 1e-6 || std::abs(got[i].y() - want[i].y()) > 1e-6) {
            qWarning() << g->name() << "points" << got << "expected" << want;
            return false;
        }
    return true;
}

QList<const QCPColorMap *> colorMaps(QCustomPlot *plot)
{
    QList<const QCPColorMap *> out;
    for (int i = 0; i < plot->plottableCount(); ++i)
        if (auto *m = qobject_cast<QCPColorMap *>(plot->plottable(i)))
            out << m;
    return out;
}

/// Every cell of a drawn heatmap of `rows` rows (row 0 at the top), row by row; NaN where the
/// cell is blank.
std::vector<double> drawnCells(const QCPColorMap *map, int rows, int cols)
{
    std::vector<double> out;
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            const int y = rows - 1 - r;
            out.push_back(map->data()->alpha(c, y) == 0 ? std::nan("") : map->data()->cell(c, y));
        }
    return out;
}

bool sameCells(const std::vector<double> &got, const std::vector<double> &want)
{
    bool same = got.size() == want.size();
    for (size_t i = 0; same && i < got.size(); ++i)
        same = std::isnan(want[i]) ? std::isnan(got[i]) : std::abs(got[i] - want[i]) < 1e-9;
    if (!same)
        qWarning() << "cells" << QList<double>(got.begin(), got.end()) << "expected"
                   << QList<double>(want.begin(), want.end());
    return same;
}

/// The texts drawn on a plot (heatmap cell values).
QStringList texts(QCustomPlot *plot)
{
    QStringList out;
    for (int i = 0; i < plot->itemCount(); ++i)
        if (auto *t = qobject_cast<QCPItemText *>(plot->item(i)))
            out << t->text();
    return out;
}

// One panel per task (RTE, then SST-2), each method's mean over seeds, the full model's
// band, the winning ticket marked.
void checkMetricVsSparsity(QCustomPlot *plot)
{
    QCOMPARE(plot->axisRectCount(), 2);
    const QCPAxisRect *rte = plot->axisRect(0), *sst = plot->axisRect(1);
    QCOMPARE(namesIn(plot, rte), (QStringList{QStringLiteral("IMP"), QStringLiteral("mask from SST-2"),
                                              QStringLiteral("full model (mean \u00b1 std, n=1)"),
                                              QStringLiteral("winning ticket (0.0%)")}));
    QCOMPARE(namesIn(plot, sst), (QStringList{QStringLiteral("IMP"), QStringLiteral("random pruning"),
                                              QStringLiteral("full model (mean \u00b1 std, n=2)"),
                                              QStringLiteral("winning ticket (11.8%)")}));
    const auto imp = graphsNamed(plot, QStringLiteral("IMP"));
    QCOMPARE(imp.size(), 2);
    QVERIFY(samePoints(imp[0], {{0, 0.60}, {kRound1, 0.58}, {kRound2, 0.55}}));
    QVERIFY(samePoints(imp[1], {{0, 0.91}, {kRound1, 0.90}, {kRound2, 0.89}, {kRound3, 0.71}}));
    QVERIFY(samePoints(graphsNamed(plot, QStringLiteral("random pruning"))[0], {{0, 0.90}, {kRound1, 0.80}}));
    QVERIFY(samePoints(graphsNamed(plot, QStringLiteral("mask from SST-2"))[0], {{kRound2, 0.57}}));
    // Both axes show every point and the full model's band (0.91 +- 0.0141), padded a little.
    const QCPRange x = sst->axis(QCPAxis::atBottom)->range(), y = sst->axis(QCPAxis::atLeft)->range();
    QVERIFY2(x.lower < 0 && x.lower > -5 && x.upper > kRound3 && x.upper < kRound3 + 5,
             qPrintable(QStringLiteral("%1..%2").arg(x.lower).arg(x.upper)));
    QVERIFY2(y.lower < 0.71 && y.lower > 0.65 && y.upper > 0.91 + 0.0141 && y.upper < 0.96,
             qPrintable(QStringLiteral("%1..%2").arg(y.lower).arg(y.upper)));
}

// The views of one run's masks default to the newest finished IMP run: RTE's, round 2.
void checkNewestImpRun(const QMap<QString, QCustomPlot *> &plots)
{
    const double nan = std::nan("");
    const auto heatmap = colorMaps(plots[QStringLiteral("sparsity-heatmap")]);
    QCOMPARE(heatmap.size(), 1);
    // Layers 0, 1 and the pooler by Q, K, V, AttnOut, FFN-in, FFN-out.
    QVERIFY(sameCells(drawnCells(heatmap[0], 3, 6), {0.5, 0.5, 0.5, 0.5, 0.5, 0, //
                                                     0, 0, 0, 0, 0.5, 0,         //
                                                     0, nan, nan, nan, nan, nan}));
    const auto heads = colorMaps(plots[QStringLiteral("head-survival")]);
    QCOMPARE(heads.size(), 1);
    QVERIFY(sameCells(drawnCells(heads[0], 2, 2), {0, 1, 1, 1})); // head 0 of layer 0 is gone
    QCOMPARE(texts(plots[QStringLiteral("head-survival")]),
             (QStringList{QStringLiteral("0.00\u2020"), QStringLiteral("1.00"), QStringLiteral("1.00"),
                          QStringLiteral("1.00")}));
    const auto rounds = colorMaps(plots[QStringLiteral("sparsity-rounds")]);
    QCOMPARE(rounds.size(), 1);
    QVERIFY(sameCells(drawnCells(rounds[0], 2, 3), {0, 0.5, 0.5, 0, 0, 0})); // Q by layer and round
}

// IMP, transfer and random runs take turns: 5 runs with masks, compared near 11.8 % (the
// random run's last round). The two SST-2 IMP seeds share their masks.
void checkOverlap(QCustomPlot *plot)
{
    const auto maps = colorMaps(plot);
    QCOMPARE(maps.size(), 1);
    const std::vector<double> cells = drawnCells(maps[0], 5, 5);
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(cells[size_t(i * 5 + i)], 1.0);
        for (int j = 0; j < 5; ++j)
            QCOMPARE(cells[size_t(i * 5 + j)], cells[size_t(j * 5 + i)]);
    }
    // Runs in turn: RTE IMP, the transfer, random, then the SST-2 IMP seeds 1 and 0.
    QCOMPARE(cells[3 * 5 + 4], 1.0);
}

// One cell, SST-2's round-2 mask on RTE: 0.57 - 0.60, at least RTE's own ticket (0.55).
void checkTransfer(QCustomPlot *plot)
{
    const auto maps = colorMaps(plot);
    QCOMPARE(maps.size(), 1);
    QVERIFY(sameCells(drawnCells(maps[0], 1, 1), {-0.03}));
    QCOMPARE(texts(plot), QStringList{QStringLiteral("-0.030*")});
}

// The runs of the newest run's task (RTE) that trained: IMP's three rounds of 10 steps laid
// end to end, the full model's one.
void checkTrainingCurves(QCustomPlot *plot, int64_t impRte, int64_t fullRte)
{
    const QString imp = QStringLiteral("RTE imp #%1 (seed 0)").arg(impRte);
    const QString full = QStringLiteral("RTE full #%1 (seed 0)").arg(fullRte);
    QCOMPARE(plot->axisRectCount(), 2); // loss, learning rate
    QCOMPARE(namesIn(plot, plot->axisRect(0)), (QStringList{imp, full}));
    const auto impLoss = graphsNamed(plot, imp), fullLoss = graphsNamed(plot, full);
    QCOMPARE(impLoss.size(), 2);
    QCOMPARE(impLoss[0]->dataCount(), 30);
    QCOMPARE(fullLoss[0]->dataCount(), 10);
    QCOMPARE(impLoss[0]->data()->at(29)->key, 30.0);
    QCOMPARE(impLoss[0]->data()->at(29)->value, 1.0 / 10 + 0.2); // round 2, step 10
    const QCPRange x = plot->axisRect(0)->axis(QCPAxis::atBottom)->range();
    QVERIFY2(x.lower <= 1 && x.upper >= 30 && x.upper < 33,
             qPrintable(QStringLiteral("%1..%2").arg(x.lower).arg(x.upper)));
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_db;
    test::LabFixture m_lab;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // keep the user's settings out of it
        QSettings().clear();
        m_db = m_dir.filePath(QStringLiteral("lab.db"));
        m_lab = test::writeLabFixture(m_db.toStdString());
    }

    void opensAndDrawsEveryView()
    {
        MainWindow w;
        w.show();
        QList<QSignalSpy *> spies;
        for (FigurePanel *p : w.figurePanels())
            spies << new QSignalSpy(p, &FigurePanel::updated);
        QVERIFY(w.openDatabase(m_db));
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->model()->rowCount(), 1, 10000);
        QCOMPARE(w.figurePanels().size(), figureNames().size());
        // Only the figure on screen is computed; the others wait until their tab is shown.
        FigurePanel *shown = qobject_cast<FigurePanel *>(w.tabs()->currentWidget());
        QVERIFY(shown);
        QTRY_VERIFY_WITH_TIMEOUT(shown->computeCount() > 0 && !shown->figure().name.isEmpty(), 10000);
        QTest::qWait(300); // longer than the throttle: a hidden panel that was going to compute has started
        for (FigurePanel *p : w.figurePanels())
            QCOMPARE(p->computeCount(), p == shown ? 1 : 0);
        // An export of every figure computes a hidden one on the spot.
        FigurePanel *hidden = w.figurePanels().last();
        hidden->ensureComputed();
        QCOMPARE(hidden->computeCount(), 1);
        QCOMPARE(hidden->figure().name, hidden->figureName());
        QMap<QString, QCustomPlot *> plots;
        for (int i = 0; i < spies.size(); ++i) {
            FigurePanel *p = w.figurePanels()[i];
            w.tabs()->setCurrentWidget(p);
            QTRY_VERIFY_WITH_TIMEOUT(spies[i]->count() > 0, 10000);
            QVERIFY2(spies[i]->last()[0].toString().isEmpty(),
                     qPrintable(p->figureName() + QStringLiteral(": ") + spies[i]->last()[0].toString()));
            plots[p->figureName()] = p->plot();
        }
        qDeleteAll(spies);
        QVERIFY(w.windowTitle().contains(QStringLiteral("lab.db")));
        QCOMPARE(plots.size(), figureNames().size());
        // What each view shows of the fixture, with nothing selected.
        checkMetricVsSparsity(plots[QStringLiteral("metric-vs-sparsity")]);
        if (!QTest::currentTestFailed())
            checkNewestImpRun(plots);
        if (!QTest::currentTestFailed())
            checkOverlap(plots[QStringLiteral("overlap-matrix")]);
        if (!QTest::currentTestFailed())
            checkTransfer(plots[QStringLiteral("transfer-matrix")]);
        if (!QTest::currentTestFailed())
            checkTrainingCurves(plots[QStringLiteral("training-curves")], m_lab.impRte, m_lab.fullRte);
    }

    void selectionRetargetsViews()
    {
        MainWindow w;
        w.show();
        QVERIFY(w.openDatabase(m_db));
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->model()->rowCount(), 1, 10000);
        FigurePanel *heads = nullptr;
        for (FigurePanel *p : w.figurePanels())
            if (p->figureName() == QLatin1String("head-survival"))
                heads = p;
        QVERIFY(heads);
        w.tabs()->setCurrentWidget(heads);
        w.browser()->selectRuns({m_lab.impSst0, m_lab.impRte});
        QTRY_VERIFY_WITH_TIMEOUT(heads->figure().heatmaps.size() == 2, 10000);
        // Both runs at their last round: SST-2 seed 0 at round 3, RTE at round 2.
        QTRY_COMPARE_WITH_TIMEOUT(colorMaps(heads->plot()).size(), 2, 10000);
        QVERIFY(heads->figure().heatmaps[0].title.startsWith(
            QStringLiteral("SST-2 imp #%1 (seed 0), round 3").arg(m_lab.impSst0)));
        QVERIFY(heads->figure().heatmaps[1].title.startsWith(
            QStringLiteral("RTE imp #%1 (seed 0), round 2").arg(m_lab.impRte)));
    }

    void showsRunsWrittenElsewhere()
    {
        MainWindow w;
        QVERIFY(w.openDatabase(m_db));
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->model()->rowCount(), 1, 10000);
        const size_t before = w.browser()->model()->snapshot().runs.size();
        test::addBareRun(m_db.toStdString(), tl::RunKind::Full, "CoLA"); // as another process would
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->model()->snapshot().runs.size(), before + 1, 10000);
    }

    void refusesBadDatabase()
    {
        MainWindow w;
        const QString junk = m_dir.filePath(QStringLiteral("junk.db"));
        QFile f(junk);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, 'x'));
        f.close();
        // A message box would block: close it as soon as it shows.
        QTimer::singleShot(200, [] {
            if (QWidget *box = QApplication::activeModalWidget())
                box->close();
        });
        QVERIFY(!w.openDatabase(junk));
        QVERIFY(w.databasePath().isEmpty());
        QFile check(junk);
        QVERIFY(check.open(QIODevice::ReadOnly));
        QCOMPARE(check.readAll(), QByteArray(4096, 'x')); // untouched
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"

// Figures: numbers computed from a hand-made store, drawing, and PDF/SVG/PNG export, plus the
// headless `ticketlab export-figure` command.

#include <QDomDocument>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "plots/qcp.h"

#include "labfixture.h"
#include "plots/figure.h"
#include "util/error.h"

using namespace tl;
using namespace tl::ui;

namespace {

QStringList csvRows(const Figure &f) { return f.csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts); }

/// The CSV rows whose columns match all of (index, value).
QList<QStringList> rowsWhere(const Figure &f, const QList<QPair<int, QString>> &match)
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

} // namespace

class TestFigures : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_db;
    test::LabFixture m_lab;

    FigureRequest request(QList<qint64> runs = {}, int round = -1) const
    {
        FigureRequest r;
        r.db = m_db;
        r.runs = runs;
        r.round = round;
        return r;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_db = m_dir.filePath(QStringLiteral("lab.db"));
        m_lab = test::writeLabFixture(m_db.toStdString());
    }

    void sparsityHeatmapNumbers()
    {
        const Figure f = buildFigure(QStringLiteral("sparsity-heatmap"), request({m_lab.impSst0}, 2));
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
        FigureRequest r = request({m_lab.impSst0});
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
        FigureRequest r = request({m_lab.impSst0, m_lab.impRte}, 1);
        r.headThreshold = 0.5;
        const Figure f = buildFigure(QStringLiteral("head-survival"), r);
        QCOMPARE(f.heatmaps.size(), size_t(2)); // two runs side by side
        for (const HeatmapPanel &p : f.heatmaps) {
            QCOMPARE(p.rows(), 2);
            QCOMPARE(p.cols(), 2);
            QCOMPARE(p.values[0], 0.0); // layer 0 head 0: rows of Q, K, V and columns of AttnOut all pruned
            QCOMPARE(p.values[1], 1.0);
            QCOMPARE(p.values[2], 1.0);
            QVERIFY(p.title.contains(QStringLiteral("3/4 heads alive")));
        }
        const auto dead = rowsWhere(f, {{0, QString::number(m_lab.impSst0)}, {3, QStringLiteral("0")}, {4, QStringLiteral("0")}});
        QCOMPARE(dead.size(), 1);
        QCOMPARE(dead[0][5], QStringLiteral("128")); // 3 x 4 rows x 8 + 8 rows x 4 columns
        QCOMPARE(dead[0][6], QStringLiteral("0"));
        QCOMPARE(dead[0][8], QStringLiteral("0"));
        // Round out of range names the run.
        try {
            buildFigure(QStringLiteral("head-survival"), request({m_lab.impRte}, 7));
            QFAIL("expected an error");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("run %1").arg(m_lab.impRte)), e.what());
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

    void overlapMatrix()
    {
        const Figure f = buildFigure(QStringLiteral("overlap-matrix"), request({m_lab.impSst0, m_lab.impSst1, m_lab.randomSst}, 1));
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
        const auto pair = rowsWhere(f, {{0, QString::number(m_lab.impSst0)}, {3, QString::number(m_lab.impSst1)}});
        QCOMPARE(pair.size(), 1);
        QVERIFY2(std::abs(pair[0][7].toDouble() - num / den) < 1e-9, qPrintable(pair[0][7]));
        QVERIFY(f.latex.contains(QStringLiteral("\\bottomrule")));
        const Figure one = buildFigure(QStringLiteral("overlap-matrix"), request({m_lab.impSst0}));
        QVERIFY(one.heatmaps.empty());
        QVERIFY(!one.note.isEmpty());
    }

    void transferMatrix()
    {
        const Figure f = buildFigure(QStringLiteral("transfer-matrix"), request());
        QCOMPARE(f.heatmaps.size(), size_t(1));
        const HeatmapPanel &p = f.heatmaps[0];
        QCOMPARE(p.yTicks, QStringList{QStringLiteral("SST-2")});
        QCOMPARE(p.xTicks, QStringList{QStringLiteral("RTE")});
        QVERIFY(std::abs(p.values[0] - (0.57 - 0.60)) < 1e-9);
        QCOMPARE(p.notes[0], QStringLiteral("*")); // 0.57 >= RTE's own ticket 0.55 at that sparsity
        QVERIFY(p.diverging);
        QVERIFY(f.latex.contains(QStringLiteral("$^{*}$")));
    }

    void trainingCurves()
    {
        const Figure f = buildFigure(QStringLiteral("training-curves"), request({m_lab.impSst0}));
        QCOMPARE(f.lines.size(), size_t(2));
        QCOMPARE(f.lines[0].series.size(), size_t(1));
        QCOMPARE(f.lines[0].series[0].x.size(), size_t(40)); // 4 rounds x 10 steps, end to end
        QCOMPARE(f.lines[0].series[0].x.back(), 40.0);
        QCOMPARE(csvRows(f).size(), 41);
    }

    void unknownFigureAndRun()
    {
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("pie-chart"), request()));
        QVERIFY_THROWS_EXCEPTION(Error, buildFigure(QStringLiteral("head-survival"), request({9999})));
        FigureRequest missing = request();
        missing.db = m_dir.filePath(QStringLiteral("absent.db"));
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
        const Figure f = buildFigure(name, request());
        QVERIFY2(!f.heatmaps.empty() || !f.lines.empty(), qPrintable(name + QStringLiteral(": ") + f.note));
        QCustomPlot plot;
        plot.resize(kFigureWidth, kFigureHeight);
        drawFigure(&plot, f);
        plot.replot();
        const QString base = m_dir.filePath(name);
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
        QVERIFY(!exportFigure(&plot, f, m_dir.filePath(QStringLiteral("x.bmp")), 96, &error));
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
        const QString outDir = m_dir.filePath(QStringLiteral("figs"));
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), m_db, QStringLiteral("--figure"),
                      QStringLiteral("all"), QStringLiteral("--out-dir"), outDir});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        for (const QString &n : figureNames())
            for (const QString &s : {QStringLiteral("pdf"), QStringLiteral("svg"), QStringLiteral("png"), QStringLiteral("csv")})
                QVERIFY2(QFile::exists(outDir + QLatin1Char('/') + n + QLatin1Char('.') + s), qPrintable(n + s));
        // One figure to one file, for chosen runs and round.
        const QString one = m_dir.filePath(QStringLiteral("heads.svg"));
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), m_db, QStringLiteral("--figure"),
                      QStringLiteral("head-survival"), QStringLiteral("--runs"), QString::number(m_lab.impRte),
                      QStringLiteral("--round"), QStringLiteral("1"), QStringLiteral("--out"), one});
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(QFile::exists(one));
        // Errors name what is wrong.
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), m_db, QStringLiteral("--figure"),
                      QStringLiteral("head-survival"), QStringLiteral("--round"), QStringLiteral("9"), QStringLiteral("--out"), one});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QStringLiteral("rounds 0..")));
        p.start(exe, {QStringLiteral("export-figure"), QStringLiteral("--db"), m_db, QStringLiteral("--figure"),
                      QStringLiteral("bogus"), QStringLiteral("--out"), one});
        QVERIFY(p.waitForFinished(60000));
        QVERIFY(p.exitCode() != 0);
        QVERIFY(QString::fromUtf8(p.readAllStandardError()).contains(QStringLiteral("unknown figure 'bogus'")));
    }
};

QTEST_MAIN(TestFigures)
#include "tst_figures.moc"

// Mask jobs off the UI thread. Export: the job writes the stored mask in each format while the
// event loop keeps running, reports errors by name, and the main window shows a busy indicator
// and the result without blocking. Mask ops: the selected runs' masks combined and stored, the
// result shown and selected.

#include <QElapsedTimer>
#include <QFile>
#include <QMessageBox>
#include <QProgressBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "testruns.h"
#include "analysis/analysis.h"
#include "jobs/maskexportjob.h"
#include "jobs/maskopjob.h"
#include "analysis/mask_algebra.h"
#include "labfixture.h"
#include "mainwindow.h"
#include "models/runtreemodel.h"
#include "panels/browserpanel.h"
#include "prune/mask_io.h"

using namespace tl;
using namespace tl::ui;

namespace {

/// A BERT-sized share of weights (12 matrices of 1024 x 1024: 12.6 million) pruned by a
/// scrambled pattern at round 1, so that decoding and writing take a noticeable time.
int64_t addLargeRun(const std::string &db)
{
    auto store = ExperimentStore::open(db);
    MaskSet dense;
    for (int i = 0; i < 12; ++i)
        dense.tensors.push_back({"encoder.layer." + std::to_string(i) + ".weight",
                                 {1024, 1024},
                                 std::vector<uint8_t>(size_t(1024 * 1024), 1)});
    PruneOrder order = PruneOrder::fromMask(dense);
    MaskSet pruned = dense;
    uint64_t x = 12345;
    for (MaskTensor &t : pruned.tensors)
        for (uint8_t &k : t.keep) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            k = (x >> 33) % 10 < 7 ? 0 : 1; // 70 % pruned
        }
    order.record(pruned, 1);
    return tltest::RunBuilder(RunKind::Imp, "SST-2").order(order).round(1, pruned.sparsity(), 0.9).create(*store);
}

void compareMasks(const MaskSet &written, const MaskSet &stored)
{
    QCOMPARE(written.tensors.size(), stored.tensors.size());
    for (const MaskTensor &t : stored.tensors) {
        const MaskTensor *w = written.find(t.name);
        QVERIFY2(w, t.name.c_str());
        QCOMPARE(w->shape, t.shape);
        QVERIFY2(w->keep == t.keep, t.name.c_str());
    }
}

} // namespace

class TestMaskExportJob : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_db;
    test::LabFixture m_lab;
    int64_t m_large = 0;

    QString out(const QString &name) const { return m_dir.filePath(name); }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // the main window's settings stay out of the user's
        QSettings().clear();
        m_db = m_dir.filePath(QStringLiteral("lab.db")).toStdString();
        m_lab = test::writeLabFixture(m_db);
        m_large = addLargeRun(m_db);
    }

    void writesWhileTheEventLoopRuns()
    {
        const QString path = out(QStringLiteral("large.safetensors"));
        MaskExportJob job(QString::fromStdString(m_db), m_large, 1, path);
        QSignalSpy finished(&job, &MaskExportJob::finished);
        // Timer events handled while the export is still running: the UI thread is free.
        int ticksWhileRunning = 0;
        QTimer ticker;
        ticker.setInterval(1);
        connect(&ticker, &QTimer::timeout, this, [&] { ticksWhileRunning += job.isRunning(); });
        ticker.start();
        QElapsedTimer clock;
        clock.start();
        job.start();
        const qint64 startMs = clock.elapsed();
        QVERIFY(job.isRunning());
        QVERIFY(!QFile::exists(path)); // written atomically, at the end
        QVERIFY(finished.wait(120000));
        const qint64 totalMs = clock.elapsed();
        qInfo("start() returned after %lld ms; the export took %lld ms; %d timer events meanwhile", startMs, totalMs,
              ticksWhileRunning);
        QCOMPARE(finished.count(), 1);
        QVERIFY2(finished[0][0].toBool(), qPrintable(job.errorText()));
        QVERIFY(ticksWhileRunning > 0);
        QVERIFY(job.summary().startsWith(QStringLiteral("12 tensors, sparsity 0.")));
        const auto store = ExperimentStore::open(m_db);
        compareMasks(readMaskFile(path.toStdString()), storedMask(*store, m_large, 1));
    }

    void writesEachFormat()
    {
        for (const QString &suffix : {QStringLiteral("safetensors"), QStringLiteral("pt"), QStringLiteral("npz")}) {
            const QString path = out(QStringLiteral("fixture-round2.") + suffix);
            MaskExportJob job(QString::fromStdString(m_db), m_lab.impSst0, 2, path);
            QSignalSpy finished(&job, &MaskExportJob::finished);
            job.start();
            QVERIFY(finished.wait(30000));
            QVERIFY2(finished[0][0].toBool(), qPrintable(job.errorText()));
            compareMasks(readMaskFile(path.toStdString()), test::fixtureMask(2));
        }
    }

    void namesWhatFailed()
    {
        struct Case
        {
            qint64 run;
            int round;
            QString file, expected;
        };
        const QList<Case> cases = {
            {m_lab.impSst0, 9, QStringLiteral("r9.safetensors"), QStringLiteral("not round 9")},
            {999, 1, QStringLiteral("r999.safetensors"), QStringLiteral("999")},
            {m_lab.impSst0, 1, QStringLiteral("mask.txt"), QStringLiteral("mask.txt")},
        };
        for (const Case &c : cases) {
            MaskExportJob job(QString::fromStdString(m_db), c.run, c.round, out(c.file));
            QSignalSpy finished(&job, &MaskExportJob::finished);
            job.start();
            QVERIFY(finished.wait(30000));
            QCOMPARE(finished[0][0].toBool(), false);
            QVERIFY2(job.errorText().contains(c.expected), qPrintable(job.errorText()));
            QVERIFY(job.summary().isEmpty());
            QVERIFY(!QFile::exists(out(c.file)));
        }
    }

    void deletingWaitsForTheFile()
    {
        const QString path = out(QStringLiteral("deleted-job.npz"));
        {
            MaskExportJob job(QString::fromStdString(m_db), m_large, 1, path);
            job.start();
        }
        const auto store = ExperimentStore::open(m_db);
        compareMasks(readMaskFile(path.toStdString()), storedMask(*store, m_large, 1));
    }

    void mainWindowShowsProgressAndResult()
    {
        MainWindow w;
        w.show();
        QVERIFY(w.openDatabase(QString::fromStdString(m_db)));
        auto *progress = w.findChild<QProgressBar *>(QStringLiteral("maskExportProgress"));
        QVERIFY(progress);
        QVERIFY(!progress->isVisible());

        const QString path = out(QStringLiteral("window.safetensors"));
        MaskExportJob *job = w.exportMaskTo(m_large, 1, path);
        QVERIFY(job);
        QSignalSpy finished(job, &MaskExportJob::finished);
        QVERIFY(job->isRunning());
        QVERIFY(progress->isVisible());
        QVERIFY(progress->toolTip().contains(path));
        QVERIFY(!w.exportMaskTo(m_large, 1, path)); // one writer per file
        QVERIFY(finished.wait(120000));
        QVERIFY(!progress->isVisible());
        QVERIFY(QFile::exists(path));
        QVERIFY2(w.statusBar()->currentMessage().startsWith(QStringLiteral("Wrote ") + path),
                 qPrintable(w.statusBar()->currentMessage()));

        // A failure is a message that does not block the window.
        QVERIFY(w.exportMaskTo(m_lab.impSst0, 9, out(QStringLiteral("window-r9.safetensors"))));
        QMessageBox *box = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((box = w.findChild<QMessageBox *>()) && box->isVisible(), 30000);
        QVERIFY2(box->text().contains(QStringLiteral("not round 9")), qPrintable(box->text()));
        QVERIFY(!progress->isVisible());
        box->close();
    }

    void mainWindowCombinesSelectedMasks()
    {
        MainWindow w;
        w.show();
        QVERIFY(w.openDatabase(QString::fromStdString(m_db)));
        QTRY_VERIFY_WITH_TIMEOUT(w.browser()->model()->runEntry(m_lab.impRte), 30000);
        // What the browser's context menu passes on: both selected runs, each at its last round.
        w.browser()->selectRuns({m_lab.impSst0, m_lab.impRte});
        const QString refs = w.browser()->selectedMaskRefs();
        QStringList parts = refs.split(QLatin1Char(','));
        parts.sort();
        QStringList expected = {QString::number(m_lab.impSst0), QString::number(m_lab.impRte)};
        expected.sort();
        QCOMPARE(parts, expected);
        w.browser()->selectRuns({m_lab.impSst0});
        QVERIFY(w.browser()->selectedMaskRefs().isEmpty()); // one run: nothing to combine

        MaskOpJob *job = w.combineMasks(QStringLiteral("intersect"), refs, QStringLiteral("SST-2 and RTE"));
        QSignalSpy finished(job, &MaskOpJob::finished);
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().first().toBool(), true);
        const qint64 stored = job->runId();
        QVERIFY(stored > 0);
        // Shown and selected once the browser has reloaded; the status bar says what was stored.
        QTRY_COMPARE_WITH_TIMEOUT(w.browser()->selectedRuns(), QList<qint64>{stored}, 30000);
        QVERIFY2(w.statusBar()->currentMessage().contains(QStringLiteral("stored as run %1").arg(stored)),
                 qPrintable(w.statusBar()->currentMessage()));
        {
            auto store = ExperimentStore::open(m_db);
            const MaskSet a = storedMask(*store, m_lab.impSst0, storedMaskRounds(*store, m_lab.impSst0));
            const MaskSet b = storedMask(*store, m_lab.impRte, storedMaskRounds(*store, m_lab.impRte));
            compareMasks(storedMask(*store, stored, 1), combineMasks(MaskOp::Intersect, {a, b}));
            QCOMPARE(store->requireRun(stored).kind, RunKind::Import);
        }

        // A run that is not in the lab: a message naming it, nothing stored.
        const size_t before = ExperimentStore::open(m_db)->runs().size();
        w.combineMasks(QStringLiteral("union"), QStringLiteral("%1,9999").arg(m_lab.impSst0), QStringLiteral("bad"));
        QMessageBox *box = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((box = w.findChild<QMessageBox *>()) && box->isVisible(), 30000);
        QVERIFY2(box->text().contains(QStringLiteral("9999")), qPrintable(box->text()));
        box->close();
        QCOMPARE(ExperimentStore::open(m_db)->runs().size(), before);
    }
};

QTEST_MAIN(TestMaskExportJob)
#include "tst_maskexportjob.moc"

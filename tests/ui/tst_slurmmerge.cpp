// File → Open SLURM output folder: every DIR/stores/*.db merged into the open lab on a worker
// thread, with how many runs were added, already present or left out; merging twice adds
// nothing; a store that conflicts with the lab is reported by name while the others merge.

#include <QDir>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "jobs/slurmmerge.h"
#include "labfixture.h"
#include "mainwindow.h"
#include "panels/studypanel.h"

using namespace tl;
using namespace tl::ui;

namespace {

/// A store file with finished runs of (kind, seed, metrics) on SST-2, as one SLURM array task writes.
void writeStore(const QString &path, const std::vector<std::tuple<RunKind, uint64_t, std::vector<double>>> &runs,
                bool unfinished = false)
{
    auto store = ExperimentStore::open(path.toStdString());
    const int64_t model = store->upsertModel({0, "/models/tiny-bert", test::fixtureConfigJson(), "hash-tiny"});
    const int64_t data = store->upsertDataset({0, "SST-2", "/data/SST-2", "hash-sst"});
    test::FixtureWriter w{*store, model, "/models/tiny-bert"};
    for (const auto &[kind, seed, metrics] : runs)
        w.finishedRun(kind, "SST-2", data, seed, metrics, kind != RunKind::Full);
    if (unfinished)
        w.run(RunKind::Random, "SST-2", data, 7).status("running").create(*store); // nothing to merge yet
}

SlurmMergeResult mergeThroughTheWindow(MainWindow &w, const QString &folder)
{
    QSignalSpy merged(w.studyPanel(), &StudyPanel::merged);
    w.studyPanel()->mergeSlurmFolder(folder);
    if (merged.isEmpty() && !merged.wait(30000))
        return {};
    return merged.first().first().value<SlurmMergeResult>();
}

} // namespace

Q_DECLARE_METATYPE(tl::ui::SlurmMergeResult)

class TestSlurmMerge : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings().clear();
        qRegisterMetaType<SlurmMergeResult>();
    }

    void mergesTheFolderIntoTheOpenLab()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath(QStringLiteral("slurm-out")), lab = dir.filePath(QStringLiteral("lab.db"));
        QVERIFY(QDir().mkpath(out + QStringLiteral("/stores")));
        writeStore(out + QStringLiteral("/stores/SST-2_imp_s0.db"), {{RunKind::Imp, 0, {0.90, 0.88}}});
        writeStore(out + QStringLiteral("/stores/SST-2_imp_s1.db"), {{RunKind::Imp, 1, {0.92, 0.90}}}, true);
        writeStore(out + QStringLiteral("/stores/SST-2_full_s0.db"), {{RunKind::Full, 0, {0.91}}});
        writeStore(lab,
                   {{RunKind::Imp, 0, {0.90, 0.88}}, {RunKind::Full, 1, {0.93}}}); // the lab has one of them already

        MainWindow w;
        QVERIFY(w.openDatabase(lab));
        SlurmMergeResult r = mergeThroughTheWindow(w, out);
        QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(QLatin1Char('\n'))));
        QCOMPARE(r.files, 3);
        QCOMPARE(r.added, 2);
        QCOMPARE(r.identical, 1);
        QCOMPARE(r.unfinished, 1);
        QVERIFY(r.summary().startsWith(QStringLiteral("2 run(s) added to lab.db from 3 store file(s)")));
        {
            auto store = ExperimentStore::open(lab.toStdString());
            QCOMPARE(store->runs().size(), size_t(4));
            for (const RunRecord &run : store->runs())
                QCOMPARE(run.status, std::string("done"));
        }
        // Twice: nothing new. The stores folder itself works too.
        r = mergeThroughTheWindow(w, out + QStringLiteral("/stores"));
        QCOMPARE(r.added, 0);
        QCOMPARE(r.identical, 3);
        QCOMPARE(ExperimentStore::open(lab.toStdString())->runs().size(), size_t(4));

        // A store whose run has other results than the lab's is an error naming it; the rest merge.
        writeStore(out + QStringLiteral("/stores/SST-2_imp_s0-again.db"), {{RunKind::Imp, 0, {0.50, 0.40}}});
        writeStore(out + QStringLiteral("/stores/SST-2_random_s0.db"), {{RunKind::Random, 0, {0.90, 0.70}}});
        r = mergeThroughTheWindow(w, out);
        QCOMPARE(r.errors.size(), 1);
        QVERIFY2(r.errors.first().contains(QStringLiteral("SST-2_imp_s0-again.db")), qPrintable(r.errors.first()));
        QVERIFY2(r.errors.first().contains(QStringLiteral("different results")), qPrintable(r.errors.first()));
        QCOMPARE(r.added, 1);
        QCOMPARE(ExperimentStore::open(lab.toStdString())->runs().size(), size_t(5));
        const int count = [&] {
            auto store = ExperimentStore::open(lab.toStdString());
            int n = 0;
            for (const RunRecord &run : store->runs())
                n += run.kind == RunKind::Imp && run.seed == 0;
            return n;
        }();
        QCOMPARE(count, 1); // the lab kept its own
    }

    void saysWhatIsWrong()
    {
        QTemporaryDir dir;
        MainWindow w;
        SlurmMergeResult r = mergeThroughTheWindow(w, dir.path()); // no lab open
        QCOMPARE(r.errors.size(), 1);
        QVERIFY(r.errors.first().contains(QStringLiteral("Open or create the lab")));
        QVERIFY(w.openDatabase(dir.filePath(QStringLiteral("lab.db")), true));
        r = mergeThroughTheWindow(w, dir.filePath(QStringLiteral("empty")));
        QCOMPARE(r.errors.size(), 1);
        QVERIFY2(r.errors.first().contains(QStringLiteral("no store files")), qPrintable(r.errors.first()));
        QCOMPARE(r.added, 0);
    }

    void skipsTheLabInTheFolder()
    {
        QTemporaryDir dir;
        writeStore(dir.filePath(QStringLiteral("a.db")), {{RunKind::Imp, 0, {0.9}}});
        const QString lab = dir.filePath(QStringLiteral("lab.db"));
        ExperimentStore::open(lab.toStdString()); // a lab among the stores: never merged into itself
        const SlurmMergeResult r = mergeSlurmFolderAsync(dir.path(), lab).result();
        QVERIFY2(r.errors.isEmpty(), qPrintable(r.errors.join(QLatin1Char('\n'))));
        QCOMPARE(r.files, 1);
        QCOMPARE(r.added, 1);
    }
};

QTEST_MAIN(TestSlurmMerge)
#include "tst_slurmmerge.moc"

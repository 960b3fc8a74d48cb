// Study files: strict parsing, the plan (keys, dependencies, stable specs), status against a
// database, and merging per-run store files into one lab.

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <set>

#include "store/experiment_store.h"
#include "store/merge.h"
#include "study/report.h"
#include "study/study.h"
#include "testdata.h"
#include "testruns.h"
#include "util/error.h"

using nlohmann::json;

namespace {

json baseStudy()
{
    return json{{"name", "t"},
                {"model", "/models/tiny"},
                {"tasks", {{"rte", "/glue/RTE"}, {"MRPC", "/glue/MRPC"}}},
                {"seeds", {0, 1}},
                {"prune", {{"method", "global_magnitude"}, {"schedule", "linear"}, {"step", 0.1}, {"rounds", 3}}},
                {"train", {{"epochs", 1}, {"max_steps", 4}, {"batch_size", 8}}},
                {"threads", 1},
                {"transfer", {{"sparsity", 0.2}}}};
}

const tl::PlannedRun &byKey(const std::vector<tl::PlannedRun> &plan, const std::string &key)
{
    for (const auto &r : plan)
        if (r.key == key)
            return r;
    throw std::runtime_error("no key " + key);
}

} // namespace

class TestStudy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesAndCanonicalises()
    {
        const tl::StudySpec s = tl::StudySpec::fromJson(baseStudy(), "s.json");
        QCOMPARE(s.tasks.size(), size_t(2));
        QCOMPARE(QString::fromStdString(s.tasks[0].first), QStringLiteral("MRPC")); // object keys sort
        QCOMPARE(QString::fromStdString(s.tasks[1].first), QStringLiteral("RTE"));
        QCOMPARE(s.seeds, (std::vector<uint64_t>{0, 1}));
        QCOMPARE(s.baselines, (std::vector<tl::RunKind>{tl::RunKind::Full, tl::RunKind::Random, tl::RunKind::Reinit,
                                                        tl::RunKind::Shuffle}));
        QCOMPARE(QString::fromStdString(s.metricFor("RTE")), QStringLiteral("main"));
        QVERIFY(s.reference.empty());

        json j = baseStudy();
        j["reference"] = {{"label", "Chen et al. (2020), Table 2"},
                          {"tasks", {{"rte", {{"sparsity", 0.6}, {"random", 0.56}, {"imp", 0.66}, {"full", 0.666}}}}}};
        const tl::StudySpec r = tl::StudySpec::fromJson(j, "s.json");
        QCOMPARE(QString::fromStdString(r.referenceLabel), QStringLiteral("Chen et al. (2020), Table 2"));
        QCOMPARE(r.reference.size(), size_t(1));
        const tl::StudyReference &rte = r.reference.at("RTE");
        QCOMPARE(rte.sparsity, 0.6);
        QVERIFY(rte.metric.empty());
        // The full model first, then IMP and the baselines in table order.
        std::vector<tl::RunKind> order;
        for (const auto &[kind, value] : rte.values)
            order.push_back(kind);
        QCOMPARE(order, (std::vector<tl::RunKind>{tl::RunKind::Full, tl::RunKind::Imp, tl::RunKind::Random}));
        QCOMPARE(rte.values.front().second, 0.666);
        // A task the study does not have is kept (a paper's whole table may be pasted), and ignored.
        j["reference"]["tasks"]["CoLA"] = {{"sparsity", 0.5}, {"metric", "mcc"}, {"imp", 0.538}};
        QCOMPARE(tl::StudySpec::fromJson(j, "s.json").reference.count("CoLA"), size_t(1));
        QCOMPARE(rte.values, (std::vector<std::pair<tl::RunKind, double>>{
                                 {tl::RunKind::Full, 0.666}, {tl::RunKind::Imp, 0.66}, {tl::RunKind::Random, 0.56}}));
        // A reference is the report's: the runs are the same with or without it.
        const auto with = tl::planStudy(r), without = tl::planStudy(s);
        QCOMPARE(with.size(), without.size());
        for (size_t i = 0; i < with.size(); ++i)
            QCOMPARE(QString::fromStdString(with[i].spec.hash()), QString::fromStdString(without[i].spec.hash()));
    }

    void errorsNameTheField_data()
    {
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("unknown") << R"({"seeds2": [0]})"
                                 << "field 'seeds2': unknown field";
        QTest::newRow("task") << R"({"tasks": {"FOO": "/x"}})"
                              << "field 'tasks.FOO'";
        QTest::newRow("dir") << R"({"tasks": {"RTE": 3}})"
                             << "field 'tasks.RTE'";
        QTest::newRow("prune") << R"({"prune": {"step": 2}})"
                               << "field 'prune.step'";
        QTest::newRow("baseline") << R"({"baselines": ["full", "bogus"]})"
                                  << "field 'baselines[1]'";
        QTest::newRow("transfer both") << R"({"transfer": {"sparsity": 0.2, "round": 1}})"
                                       << "field 'transfer.round'";
        QTest::newRow("transfer round") << R"({"transfer": {"round": 9}})"
                                        << "field 'transfer.round'";
        QTest::newRow("transfer from") << R"({"transfer": {"sparsity": 0.2, "from": ["CoLA"]}})"
                                       << "field 'transfer.from[0]'";
        QTest::newRow("per task") << R"({"train_per_task": {"RTE": {"lr": -1}}})"
                                  << "train_per_task.RTE";
        QTest::newRow("per task field") << R"({"train_per_task": {"RTE": {"lr": -1}}})"
                                        << "field 'train.lr'";
        QTest::newRow("at") << R"({"at": [0.5, 1.5]})"
                            << "field 'at[1]'";
        QTest::newRow("metric task") << R"({"metric": {"SST-2": "accuracy"}})"
                                     << "field 'metric.SST-2'";
        QTest::newRow("reference label") << R"({"reference": {"tasks": {"RTE": {"sparsity": 0.6, "imp": 0.66}}}})"
                                         << "field 'reference.label': required";
        QTest::newRow("reference task") << R"({"reference": {"label": "p", "tasks": {"FOO": {"sparsity": 0.5}}}})"
                                        << "field 'reference.tasks.FOO'";
        QTest::newRow("reference metric")
            << R"({"reference": {"label": "p", "tasks": {"RTE": {"sparsity": 0.6, "metric": "acc", "imp": 0.66}}}})"
            << "field 'reference.tasks.RTE.metric': \"acc\" is not a metric of RTE (accuracy, f1, ";
        QTest::newRow("reference regression metric")
            << R"({"reference": {"label": "p", "tasks": {"RTE": {"sparsity": 0.6, "metric": "pearson", "imp": 0.66}}}})"
            << "is not a metric of RTE";
        QTest::newRow("reference percent")
            << R"({"reference": {"label": "p", "tasks": {"RTE": {"sparsity": 0.6, "imp": 66.0}}}})"
            << "field 'reference.tasks.RTE.imp': expected the metric's own scale, within [-1, 1] (0.66, not 66)";
        QTest::newRow("reference kind")
            << R"({"reference": {"label": "p", "tasks": {"RTE": {"sparsity": 0.6, "randm": 0.5}}}})"
            << "field 'reference.tasks.RTE.randm': unknown field (known: sparsity, metric, imp";
        QTest::newRow("reference transfer")
            << R"({"reference": {"label": "p", "tasks": {"RTE": {"sparsity": 0.6, "transfer": 0.5}}}})"
            << "field 'reference.tasks.RTE.transfer': unknown field";
        QTest::newRow("reference sparsity") << R"({"reference": {"label": "p", "tasks": {"RTE": {"imp": 0.66}}}})"
                                            << "field 'reference.tasks.RTE.sparsity': required";
        QTest::newRow("reference range")
            << R"({"reference": {"label": "p", "tasks": {"RTE": {"sparsity": 60, "imp": 0.66}}}})"
            << "field 'reference.tasks.RTE.sparsity': must lie in (0, 1)";
        QTest::newRow("reference value")
            << R"({"reference": {"label": "p", "tasks": {"RTE": {"sparsity": 0.6, "imp": "66"}}}})"
            << "field 'reference.tasks.RTE.imp': expected a number";
        QTest::newRow("reference empty") << R"({"reference": {"label": "p", "tasks": {"RTE": {"sparsity": 0.6}}}})"
                                         << "field 'reference.tasks.RTE': give at least one value";
    }
    void errorsNameTheField()
    {
        QFETCH(QString, patch);
        QFETCH(QString, fragment);
        json j = baseStudy();
        j.merge_patch(json::parse(patch.toStdString()));
        EXPECT_ERROR(tl::StudySpec::fromJson(j, "s.json"), fragment.toStdString());
    }

    void planKeysAndDependencies()
    {
        const tl::StudySpec s = tl::StudySpec::fromJson(baseStudy(), "s.json");
        const auto plan = tl::planStudy(s);
        // 2 tasks x 2 seeds x (imp + 4 baselines) + 2 directions x 2 seeds of transfer.
        QCOMPARE(plan.size(), size_t(2 * 2 * 5 + 2 * 2));
        std::set<std::string> keys;
        for (const auto &r : plan) {
            QVERIFY2(keys.insert(r.key).second, r.key.c_str());
            QCOMPARE(r.spec.seeds, std::vector<uint64_t>{r.seed});
            for (const std::string &dep : r.dependsOn) // dependencies come first
                QVERIFY(std::find_if(plan.begin(), plan.end(), [&](const auto &p) { return p.key == dep; }) <
                        std::find_if(plan.begin(), plan.end(), [&](const auto &p) { return p.key == r.key; }));
        }
        const auto &imp = byKey(plan, "RTE/imp/s1");
        QCOMPARE(imp.level, 0);
        QVERIFY(imp.dependsOn.empty());
        const auto &reinit = byKey(plan, "RTE/reinit/s1");
        QCOMPARE(reinit.dependsOn, std::vector<std::string>{"RTE/imp/s1"});
        QVERIFY(reinit.spec.source);
        QCOMPARE(QString::fromStdString(reinit.spec.source->specHash), QString::fromStdString(imp.spec.hash()));
        QCOMPARE(reinit.spec.source->seed, uint64_t(1));
        const auto &tr = byKey(plan, "RTE->MRPC/transfer/s0");
        QCOMPARE(QString::fromStdString(tr.task), QStringLiteral("MRPC"));
        QCOMPARE(QString::fromStdString(tr.sourceTask), QStringLiteral("RTE"));
        QCOMPARE(tr.dependsOn, std::vector<std::string>{"RTE/imp/s0"});
        QCOMPARE(tr.spec.source->round, 2); // linear 0.1: round 2 is 20%
        QCOMPARE(QString::fromStdString(tr.spec.dataDir), QStringLiteral("/glue/MRPC"));
        QVERIFY(!byKey(plan, "MRPC/full/s0").spec.source);
        QVERIFY(byKey(plan, "MRPC/random/s0").spec.at.empty());
        json withAt = baseStudy();
        withAt["at"] = {0.4};
        const auto planAt = tl::planStudy(tl::StudySpec::fromJson(withAt, "s.json"));
        QCOMPARE(byKey(planAt, "MRPC/random/s0").spec.at, std::vector<double>{0.4});
        QCOMPARE(byKey(planAt, "MRPC/reinit/s0").spec.at, std::vector<double>{0.4});
        QVERIFY(byKey(planAt, "MRPC/imp/s0").spec.at.empty());
        QVERIFY(byKey(planAt, "MRPC/full/s0").spec.at.empty());
        QVERIFY(byKey(planAt, "RTE->MRPC/transfer/s0").spec.at.empty());
        QCOMPARE(QString::fromStdString(byKey(planAt, "MRPC/imp/s0").spec.hash()),
                 QString::fromStdString(byKey(plan, "MRPC/imp/s0").spec.hash()));
        QCOMPARE(QString::fromStdString(tl::keyFileName(tr.key)), QStringLiteral("RTE-to-MRPC_transfer_s0"));
    }

    void editingAStudyKeepsItsRuns()
    {
        const auto before = tl::planStudy(tl::StudySpec::fromJson(baseStudy(), "s.json"));
        json j = baseStudy();
        j["seeds"] = {0, 1, 2};
        j["tasks"]["CoLA"] = "/glue/CoLA";
        const auto after = tl::planStudy(tl::StudySpec::fromJson(j, "s.json"));
        QVERIFY(after.size() > before.size());
        for (const auto &r : before)
            QCOMPARE(QString::fromStdString(byKey(after, r.key).spec.hash()), QString::fromStdString(r.spec.hash()));
        // --threads (study run --jobs) is part of every spec: it changes CPU results.
        const auto threaded = tl::planStudy(tl::StudySpec::fromJson(baseStudy(), "s.json"), 2);
        QVERIFY(threaded.front().spec.hash() != before.front().spec.hash());
    }

    void partKeepsKeysAndSpecs()
    {
        const tl::StudySpec s = tl::StudySpec::fromJson(baseStudy(), "s.json");
        const auto whole = tl::planStudy(s);
        auto checkSubset = [&](const std::vector<tl::PlannedRun> &part) {
            for (const auto &r : part)
                QCOMPARE(QString::fromStdString(byKey(whole, r.key).spec.hash()),
                         QString::fromStdString(r.spec.hash()));
        };
        // One task, one seed: its IMP run and baselines; no transfer (MRPC is not in the part).
        QCOMPARE(QString::fromStdString(s.part({"rte"}, {1}).partLabel), QStringLiteral("tasks RTE; seeds 1"));
        QVERIFY(s.part({}, {}).partLabel.empty());
        const auto rte1 = tl::planStudy(s.part({"rte"}, {1}));
        QCOMPARE(rte1.size(), size_t(5));
        checkSubset(rte1);
        for (const auto &r : rte1) {
            QCOMPARE(QString::fromStdString(r.task), QStringLiteral("RTE"));
            QCOMPARE(r.seed, uint64_t(1));
        }
        // One seed, every task: both directions of transfer stay.
        const auto s0 = tl::planStudy(s.part({}, {0}));
        QCOMPARE(s0.size(), size_t(2 * 5 + 2));
        checkSubset(s0);
        QCOMPARE(byKey(s0, "MRPC->RTE/transfer/s0").dependsOn, std::vector<std::string>{"MRPC/imp/s0"});
        // Every task, in any order, is the whole study in file order.
        const auto all = tl::planStudy(s.part({"RTE", "MRPC"}, {1, 0}));
        QCOMPARE(all.size(), whole.size());
        for (size_t i = 0; i < all.size(); ++i)
            QCOMPARE(QString::fromStdString(all[i].key), QString::fromStdString(whole[i].key));

        auto failsWith = [&](const std::vector<std::string> &tasks, const std::vector<uint64_t> &seeds,
                             const QString &needle) {
            try {
                (void)s.part(tasks, seeds);
            } catch (const tl::Error &e) {
                const QString what = QString::fromUtf8(e.what());
                QVERIFY2(what.contains(needle) && what.contains(QStringLiteral("s.json")), qPrintable(what));
                return;
            }
            QFAIL(qPrintable(QStringLiteral("no error for ") + needle));
        };
        failsWith({"CoLA"}, {}, QStringLiteral("\"CoLA\" is not one of the study's tasks (MRPC, RTE)"));
        failsWith({"no-such-task"}, {}, QStringLiteral("no-such-task"));
        failsWith({}, {7}, QStringLiteral("seed 7 is not one of the study's seeds (0, 1)"));
    }

    void statusAgainstADatabase()
    {
        QTemporaryDir dir;
        const auto plan = tl::planStudy(tl::StudySpec::fromJson(baseStudy(), "s.json"));
        auto store = tl::ExperimentStore::open(tltest::str(dir.filePath(QStringLiteral("lab.db"))));
        auto add = [&](const tl::PlannedRun &p, const char *status) {
            return tltest::RunBuilder(p.kind, p.task, p.seed)
                .spec(p.spec.toJson().dump(), p.spec.hash())
                .status(status)
                .create(*store);
        };
        add(plan[0], "done");
        add(plan[1], "cancelled");
        add(plan[2], "failed");
        add(plan[2], "done"); // a later finished run of the same identity wins
        const auto status = tl::planStatuses(*store, plan);
        QCOMPARE(status[0], tl::PlanStatus::Done);
        QCOMPARE(status[1], tl::PlanStatus::Partial);
        QCOMPARE(status[2], tl::PlanStatus::Done);
        QCOMPARE(status[3], tl::PlanStatus::Todo);
    }

    void repositoryStudiesPlan()
    {
        // Every study file shipped in studies/ parses and expands (paths need not exist).
        const QDir dir(QStringLiteral(TICKETLAB_SOURCE_DIR "/studies"));
        const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files);
        QVERIFY(!files.isEmpty());
        for (const QString &f : files) {
            const tl::StudySpec s = tl::StudySpec::load(tltest::str(dir.filePath(f)));
            const auto plan = tl::planStudy(s);
            QVERIFY2(plan.size() >= s.tasks.size() * s.seeds.size(), qPrintable(f));
        }
    }

    // The transfer table prints transfer minus the target's own IMP subnetwork; a target without
    // an IMP result at that sparsity gets the transfer's own value, marked so it cannot be read
    // as a difference.
    void transferTableMarksCellsWithoutTargetImp()
    {
        tl::StudyReport r;
        r.name = "t";
        r.criterion = "within_std";
        tl::TransferReportCell measured;
        measured.source = "MRPC";
        measured.target = "STS-B";
        measured.sparsity = 0.4;
        measured.transfer = {-0.0533, 0, 1};
        measured.targetImp = {0.661, 0, 1};
        tl::TransferReportCell raw = measured;
        raw.source = "STS-B";
        raw.target = "MRPC";
        raw.transfer = {0.815, 0, 1};
        raw.targetImp = {};
        r.transfers = {measured, raw};
        QTemporaryDir dir;
        tl::writeStudyReport(r, tltest::str(dir.path()), {});
        auto read = [&](const QString &name) {
            QFile f(dir.filePath(name));
            if (!f.open(QIODevice::ReadOnly))
                return QString();
            return QString::fromUtf8(f.readAll());
        };
        const QString md = read(QStringLiteral("report.md"));
        QVERIFY2(md.contains(QString::fromUtf8("| MRPC | – | -71.4 | 0 |")), qPrintable(md));
        QVERIFY2(md.contains(QString::fromUtf8("| STS-B | 81.5† | – | 0 |")), qPrintable(md));
        QVERIFY2(md.contains(QString::fromUtf8("† the transfer's own value")), qPrintable(md));
        const QString tex = read(QStringLiteral("transfer.tex"));
        QVERIFY2(tex.contains(QStringLiteral("81.5$^\\dagger$")), qPrintable(tex));
        QVERIFY2(tex.contains(QStringLiteral("-71.4 &")), qPrintable(tex));

        // With every target measured there is no footnote.
        r.transfers = {measured};
        tl::writeStudyReport(r, tltest::str(dir.path()), {});
        QVERIFY(!read(QStringLiteral("report.md")).contains(QString::fromUtf8("†")));
        QVERIFY(!read(QStringLiteral("transfer.tex")).contains(QStringLiteral("dagger")));
    }

    void mergeIsIdempotentAndRemapsSources()
    {
        QTemporaryDir dir;
        const auto plan = tl::planStudy(tl::StudySpec::fromJson(baseStudy(), "s.json"));
        const tl::PlannedRun &imp = byKey(plan, "RTE/imp/s0");
        const tl::PlannedRun &tr = byKey(plan, "RTE->MRPC/transfer/s0");
        tl::MaskSet mask;
        mask.tensors.push_back({"bert.pooler.dense.weight", {2, 2}, {1, 1, 1, 1}});
        const tl::PruneOrder order = tl::PruneOrder::fromMask(mask);
        auto fill = [&](tl::ExperimentStore &s, const tl::PlannedRun &p, double metric, int64_t sourceRun) {
            tltest::RunBuilder b(p.kind, p.task, p.seed);
            b.spec(p.spec.toJson().dump(), p.spec.hash())
                .model(s.upsertModel({0, "/models/tiny", R"({"num_attention_heads": 2})", "abc"}))
                .metricNames({"accuracy"})
                .curve(2)
                .order(order)
                .round(0, 0.0, metric)
                .round(1, 0.1, metric + 1);
            if (sourceRun)
                b.transferFrom(sourceRun, 2);
            return b.create(s);
        };
        const QString aPath = dir.filePath(QStringLiteral("a.db")), labPath = dir.filePath(QStringLiteral("lab.db"));
        {
            auto a = tl::ExperimentStore::open(tltest::str(aPath));
            const int64_t impId = fill(*a, imp, 0.5, 0);
            fill(*a, tr, 0.7, impId);
            tltest::RunBuilder(tl::RunKind::Imp, "RTE").spec("{}", "feed").status("running").create(*a);
        }
        auto lab = tl::ExperimentStore::open(tltest::str(labPath));
        fill(*lab, byKey(plan, "MRPC/full/s0"), 0.6, 0); // the lab's own run shifts the ids
        {
            auto a = tl::ExperimentStore::open(tltest::str(aPath));
            const tl::MergeReport r = tl::mergeStore(*lab, *a);
            QCOMPARE(r.added, 2);
            QCOMPARE(r.unfinished, 1);
            const tl::MergeReport again = tl::mergeStore(*lab, *a);
            QCOMPARE(again.added, 0);
            QCOMPARE(again.identical, 2);
        }
        const auto runs = lab->runs();
        QCOMPARE(runs.size(), size_t(3));
        const tl::RunRecord &mergedTransfer = runs.front(); // newest first
        const tl::RunRecord &mergedImp = runs[1];
        QCOMPARE(QString::fromStdString(mergedTransfer.specHash), QString::fromStdString(tr.spec.hash()));
        QCOMPARE(lab->rounds(mergedTransfer.id).size(), size_t(2));
        QCOMPARE(lab->curve(mergedTransfer.id).size(), size_t(4));
        QCOMPARE(*lab->pruneOrder(mergedTransfer.id), tl::encodePruneOrder(order));
        QCOMPARE(lab->transfer(mergedTransfer.id)->sourceRunId, mergedImp.id);
        QVERIFY(mergedImp.id != 1); // really remapped
        QCOMPARE(QString::fromStdString(lab->model(mergedImp.modelId)->configJson),
                 QStringLiteral(R"({"num_attention_heads": 2})"));

        // The same run with other results is an error naming it; the lab keeps what it had.
        const QString bPath = dir.filePath(QStringLiteral("b.db"));
        {
            auto b = tl::ExperimentStore::open(tltest::str(bPath));
            fill(*b, imp, 0.9, 0);
        }
        auto b = tl::ExperimentStore::open(tltest::str(bPath));
        EXPECT_ERROR(tl::mergeStore(*lab, *b), "different results");
        QCOMPARE(lab->runs().size(), size_t(3));
    }
};

QTEST_GUILESS_MAIN(TestStudy)
#include "tst_study.moc"

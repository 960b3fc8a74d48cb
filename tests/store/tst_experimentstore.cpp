// The experiment store: records, rounds committed all-or-nothing, resume lookup.

#include "storetestutil.h"

using namespace storetest;

class TestExperimentStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void commitsSurvivePowerLoss()
    {
        // WAL with synchronous=FULL: every commit is synced to the log before it returns.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        QCOMPARE(store->pragma("journal_mode"), std::string("wal"));
        QCOMPARE(store->pragma("synchronous"), std::string("2")); // FULL
        QCOMPARE(store->pragma("integrity_check"), std::string("ok"));
        QVERIFY_THROWS_EXCEPTION(tl::Error, store->pragma("synchronous = OFF"));
    }

    void roundTripAfterReopen()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath(QStringLiteral("lab.db")).toStdString();
        const uint64_t bigSeed = std::numeric_limits<uint64_t>::max(); // above INT64_MAX: tests the bit cast
        const std::vector<char> order = {'\0', 'a', '\xff', '\0', 'z'};
        const std::vector<tl::CurvePoint> curve1 = {{1, 0, std::numeric_limits<double>::quiet_NaN(), 1e-5},
                                                    {1, 5, std::numeric_limits<double>::infinity(), 2e-5},
                                                    {1, 10, 0.25, 0.0}};
        int64_t modelId = 0, datasetId = 0, runId = 0, transferId = 0, fileTransferId = 0;
        {
            auto store = tl::ExperimentStore::open(path);
            QCOMPARE(store->path(), path);
            QCOMPARE(store->schemaVersion(), tl::ExperimentStore::currentSchemaVersion());
            modelId = store->upsertModel({0, "/models/bert-base-uncased", R"({"hidden_size":768})", "abc123"});
            datasetId = store->upsertDataset({0, "RTE", "/glue/RTE", "def456"});
            tl::RunRecord r = makeRun("0123456789abcdef", bigSeed);
            r.modelId = modelId;
            r.datasetId = datasetId;
            r.specJson = R"({"note":"überprüft ✓"})";
            r.ticketlabVersion = "9.9.9";
            r.repetition = 2;
            r.torchVersion = "1.13.0";
            r.blas = "OpenBLAS 0.3.21 DYNAMIC_ARCH";
            runId = store->createRun(r);
            QVERIFY(!store->pruneOrder(runId));
            store->commitRound(makeRound(runId, 0, 0.66), makeCurve(0, 4));
            store->commitRound(makeRound(runId, 1, 0.65), curve1, &order);

            tl::RunRecord t = makeRun("feed", 3);
            t.kind = tl::RunKind::Transfer;
            t.modelId = modelId; // datasetId left 0: none
            transferId = store->createRun(t);
            store->recordTransfer({transferId, runId, 1, "MRPC", "masks/rte-1.safetensors"});
            fileTransferId = store->createRun(t);
            store->recordTransfer({fileTransferId, 0, 0, "SST-2", "/elsewhere/mask.safetensors"});
            store->setRunStatus(fileTransferId, "failed", "out of memory");
            const std::vector<char> emptyOrder;
            store->commitRound(makeRound(fileTransferId, 0, 0.5), {}, &emptyOrder);
        }

        auto store = tl::ExperimentStore::open(path);
        const auto model = store->model(modelId);
        QVERIFY(model);
        QCOMPARE(model->path, std::string("/models/bert-base-uncased"));
        QCOMPARE(model->configJson, std::string(R"({"hidden_size":768})"));
        QCOMPARE(model->contentHash, std::string("abc123"));
        const auto dataset = store->dataset(datasetId);
        QVERIFY(dataset);
        QCOMPARE(dataset->task, std::string("RTE"));
        QCOMPARE(dataset->path, std::string("/glue/RTE"));
        QCOMPARE(dataset->contentHash, std::string("def456"));
        QVERIFY(!store->model(modelId + 100));
        QVERIFY(!store->dataset(datasetId + 100));

        const auto run = store->run(runId);
        QVERIFY(run);
        QCOMPARE(run->id, runId);
        QCOMPARE(run->kind, tl::RunKind::Imp);
        QCOMPARE(run->status, std::string("running"));
        QCOMPARE(run->specJson, std::string(R"({"note":"überprüft ✓"})"));
        QCOMPARE(run->specHash, std::string("0123456789abcdef"));
        QCOMPARE(run->seed, bigSeed);
        QCOMPARE(run->modelId, modelId);
        QCOMPARE(run->datasetId, datasetId);
        QCOMPARE(run->task, std::string("RTE"));
        QCOMPARE(run->ticketlabVersion, std::string("9.9.9"));
        QCOMPARE(run->device, std::string("cpu"));
        QCOMPARE(run->threads, 2);
        QCOMPARE(run->error, std::string());
        QCOMPARE(run->repetition, 2);
        QCOMPARE(run->torchVersion, std::string("1.13.0"));
        QCOMPARE(run->blas, std::string("OpenBLAS 0.3.21 DYNAMIC_ARCH"));
        const QRegularExpression iso(QStringLiteral("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$"));
        QVERIFY2(iso.match(q(run->createdAt)).hasMatch(), run->createdAt.c_str());
        QVERIFY2(iso.match(q(run->updatedAt)).hasMatch(), run->updatedAt.c_str());
        QVERIFY(run->updatedAt >= run->createdAt);

        const auto rounds = store->rounds(runId);
        QCOMPARE(rounds.size(), size_t(2));
        QVERIFY(sameRounds(rounds, {makeRound(runId, 0, 0.66), makeRound(runId, 1, 0.65)}));
        std::vector<tl::CurvePoint> expected = makeCurve(0, 4);
        expected.insert(expected.end(), curve1.begin(), curve1.end());
        QVERIFY(sameCurve(store->curve(runId), expected));
        QCOMPARE(store->pruneOrder(runId), std::optional<std::vector<char>>(order));

        const auto runs = store->runs();
        QCOMPARE(runs.size(), size_t(3));
        QCOMPARE(runs[0].id, fileTransferId); // newest first
        QCOMPARE(runs[2].id, runId);
        QCOMPARE(runs[1].ticketlabVersion, std::string(TICKETLAB_VERSION)); // filled in when empty
        QCOMPARE(runs[1].datasetId, int64_t(0));
        QCOMPARE(runs[1].repetition, 0);
        QCOMPARE(runs[1].torchVersion, std::string());
        QCOMPARE(runs[0].status, std::string("failed"));
        QCOMPARE(runs[0].error, std::string("out of memory"));

        const auto transfer = store->transfer(transferId);
        QVERIFY(transfer);
        QCOMPARE(transfer->runId, transferId);
        QCOMPARE(transfer->sourceRunId, runId);
        QCOMPARE(transfer->sourceRound, 1);
        QCOMPARE(transfer->targetTask, std::string("MRPC"));
        QCOMPARE(transfer->maskFile, std::string("masks/rte-1.safetensors"));
        const auto fromFile = store->transfer(fileTransferId);
        QVERIFY(fromFile);
        QCOMPARE(fromFile->sourceRunId, int64_t(0));
        QCOMPARE(fromFile->maskFile, std::string("/elsewhere/mask.safetensors"));
        QVERIFY(!store->transfer(runId));
        const auto emptyOrder = store->pruneOrder(fileTransferId);
        QVERIFY(emptyOrder);
        QVERIFY(emptyOrder->empty());
        QVERIFY(!store->run(runId + 100));
        QVERIFY(store->rounds(runId + 100).empty());

        RawDb raw(q(path));
        QCOMPARE(raw.text("PRAGMA journal_mode"), QStringLiteral("wal"));
    }

    void upsertKeepsIdentity()
    {
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        const int64_t a = store->upsertModel({0, "/m", "{}", "h1"});
        QCOMPARE(store->upsertModel({0, "/m", R"({"changed":1})", "h1"}), a);
        QCOMPARE(store->model(a)->configJson, std::string("{}")); // the first config stays
        const int64_t b = store->upsertModel({0, "/m", "{}", "h2"});
        QVERIFY(b != a);
        QVERIFY(store->upsertModel({0, "/other", "{}", "h1"}) != a);

        const int64_t d = store->upsertDataset({0, "RTE", "/d", "h"});
        QCOMPARE(store->upsertDataset({0, "RTE", "/d", "h"}), d);
        QVERIFY(store->upsertDataset({0, "MRPC", "/d", "h"}) != d);
        QVERIFY(store->upsertDataset({0, "RTE", "/d", "h2"}) != d);
    }

    // clang-format off
    void createRunValidates_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("status") << "status" << "paused" << "unknown run status";
        QTest::newRow("json") << "specJson" << "{not json" << "not valid JSON";
        QTest::newRow("hash") << "specHash" << "" << "empty spec hash";
        QTest::newRow("model fk") << "modelId" << "999" << "FOREIGN KEY";
        QTest::newRow("dataset fk") << "datasetId" << "999" << "FOREIGN KEY";
    }
    // clang-format on

    void createRunValidates()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, fragment);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.db"));
        auto store = tl::ExperimentStore::open(path.toStdString());
        tl::RunRecord r = makeRun("h", 0);
        const std::string v = value.toStdString();
        if (field == QLatin1String("status"))
            r.status = v;
        else if (field == QLatin1String("specJson"))
            r.specJson = v;
        else if (field == QLatin1String("specHash"))
            r.specHash = v;
        else if (field == QLatin1String("modelId"))
            r.modelId = std::stoll(v);
        else
            r.datasetId = std::stoll(v);
        const QString msg = errorOf([&] { store->createRun(r); });
        QVERIFY2(msg.contains(path), qPrintable(msg));
        QVERIFY2(msg.contains(fragment), qPrintable(msg));
        QVERIFY(store->runs().empty());
    }

    void everyKindIsAccepted()
    {
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        for (const tl::RunKindInfo &kind : tl::runKindTable()) {
            tl::RunRecord r = makeRun("h", 0);
            r.kind = kind.kind;
            const int64_t id = store->createRun(r);
            QCOMPARE(store->run(id)->kind, kind.kind);
            QCOMPARE(
                RawDb(q(store->path())).text(qPrintable(QStringLiteral("SELECT kind FROM runs WHERE id = %1").arg(id))),
                QString::fromUtf8(kind.name)); // stored by name
        }
        QCOMPARE(store->runs().size(), tl::runKindTable().size());
    }

    void roundMetricsAreRead()
    {
        tl::RoundRecord r;
        r.devMetricsJson = R"({"main": 0.75, "accuracy": 0.75, "mcc": null})";
        r.trainMetricsJson = R"({"loss": 0.5})";
        QCOMPARE(r.devMetric(), std::optional<double>(0.75)); // kMainMetric
        QCOMPARE(r.devMetric("accuracy"), std::optional<double>(0.75));
        QVERIFY(!r.devMetric("mcc")); // stored null (a NaN): no number
        QVERIFY(!r.devMetric("f1"));
        const auto all = r.devMetrics();
        QCOMPARE(all.size(), size_t(3));
        QVERIFY(std::isnan(all.at("mcc")));
        QCOMPARE(r.trainMetrics().at("loss"), 0.5);
        QVERIFY(tl::sameMetrics(all, r.devMetrics())); // NaN equals NaN here
        QVERIFY(!tl::sameMetrics(all, r.trainMetrics()));
        r.devMetricsJson = "[1]"; // only a foreign database could hold this: read as no metrics
        QVERIFY(r.devMetrics().empty());
        QVERIFY(!tl::RoundRecord().devMetric());
    }

    void runsByIdAndLabel()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.db"));
        auto store = tl::ExperimentStore::open(path.toStdString());
        tl::RunRecord r = makeRun("h", 7);
        r.repetition = 2;
        const int64_t id = store->createRun(r);
        QCOMPARE(store->requireRun(id).seed, uint64_t(7));
        QCOMPARE(errorOf([&] { store->requireRun(id + 1); }), path + QStringLiteral(": no run %1").arg(id + 1));
        QCOMPARE(q(tl::runLabel(store->requireRun(id))), QStringLiteral("RTE imp #%1 (seed 7, repetition 2)").arg(id));
        r.repetition = 0;
        r.id = 3;
        QCOMPARE(tl::runLabel(r), std::string("RTE imp #3 (seed 7)"));
    }

    void unknownStoredKindIsNamed()
    {
        // A kind this build does not know (another program's, or a newer TicketLab's) is an
        // error naming the database, the run and the kind, never a silent default.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.db"));
        auto store = tl::ExperimentStore::open(path.toStdString());
        const int64_t id = store->createRun(makeRun("h", 0));
        QVERIFY(RawDb(path).exec("UPDATE runs SET kind = 'lottery'"));
        for (const QString &msg : {errorOf([&] { store->runs(); }), errorOf([&] { store->run(id); })}) {
            QVERIFY2(msg.contains(path), qPrintable(msg));
            QVERIFY2(msg.contains(QStringLiteral("run %1").arg(id)), qPrintable(msg));
            QVERIFY2(msg.contains(QStringLiteral("unknown run kind 'lottery'")), qPrintable(msg));
        }
    }

    void commitRoundReplaces()
    {
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        const int64_t run = store->createRun(makeRun("h", 0));
        const std::vector<char> first = {1, 2, 3}, second = {4, 5};
        store->commitRound(makeRound(run, 0, 0.7), makeCurve(0, 3));
        store->commitRound(makeRound(run, 1, 0.6), makeCurve(1, 5), &first);
        const std::string stampBefore = store->run(run)->updatedAt;

        // A resumed run redoes round 1: different metrics, a shorter curve, a new order.
        tl::RoundRecord redo = makeRound(run, 1, 0.61);
        redo.steps = 7;
        store->commitRound(redo, makeCurve(1, 2), &second);
        store->commitRound(redo, makeCurve(1, 2), &second); // and once more: same result
        QVERIFY(sameRounds(store->rounds(run), {makeRound(run, 0, 0.7), redo}));
        std::vector<tl::CurvePoint> expected = makeCurve(0, 3);
        for (const tl::CurvePoint &p : makeCurve(1, 2))
            expected.push_back(p);
        QVERIFY(sameCurve(store->curve(run), expected));
        QCOMPARE(*store->pruneOrder(run), second);
        QVERIFY(store->run(run)->updatedAt >= stampBefore);

        // Without a blob the stored order stays.
        store->commitRound(makeRound(run, 2, 0.5), makeCurve(2, 1));
        QCOMPARE(*store->pruneOrder(run), second);
        QCOMPARE(store->rounds(run).size(), size_t(3));
    }

    // clang-format off
    void failedCommitLeavesNoTrace_data()
    {
        QTest::addColumn<int>("round");
        QTest::addColumn<QString>("defect");
        QTest::addColumn<QString>("fragment");
        // Round 1 exists (replacing it must not delete it on failure); round 2 is new.
        for (int round : {1, 2}) {
            const auto tag = [round](const char *name) {
                return QByteArray(name) + (round == 1 ? " (replacing)" : " (new)");
            };
            QTest::newRow(tag("negative step midway").constData()) << round << "step" << "CHECK constraint failed";
            QTest::newRow(tag("NaN lr midway").constData()) << round << "lr" << "NOT NULL constraint failed";
            QTest::newRow(tag("no such run").constData()) << round << "run" << "no such run";
            QTest::newRow(tag("metrics").constData()) << round << "metrics" << "dev metrics 'accuracy' is not a number";
            QTest::newRow(tag("curve round").constData()) << round << "curveRound" << "belongs to round";
            QTest::newRow(tag("sparsity").constData()) << round << "sparsity" << "not a fraction";
        }
    }
    // clang-format on

    void failedCommitLeavesNoTrace()
    {
        QFETCH(int, round);
        QFETCH(QString, defect);
        QFETCH(QString, fragment);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.db"));
        auto store = tl::ExperimentStore::open(path.toStdString());
        const int64_t run = store->createRun(makeRun("h", 0));
        const std::vector<char> order = {9, 9};
        store->commitRound(makeRound(run, 0, 0.7), makeCurve(0, 3));
        store->commitRound(makeRound(run, 1, 0.6), makeCurve(1, 4), &order);
        const auto roundsBefore = store->rounds(run);
        const auto curveBefore = store->curve(run);
        const std::string stampBefore = store->run(run)->updatedAt;

        tl::RoundRecord r = makeRound(run, round, 0.1);
        std::vector<tl::CurvePoint> curve = makeCurve(round, 6);
        const std::vector<char> newOrder = {1};
        if (defect == QLatin1String("step"))
            curve[3].step = -1; // three points are already inserted when this one fails
        else if (defect == QLatin1String("lr"))
            curve[4].lr = std::numeric_limits<double>::quiet_NaN();
        else if (defect == QLatin1String("run"))
            r.runId = run + 41;
        else if (defect == QLatin1String("metrics"))
            r.devMetricsJson = R"({"accuracy":"high"})";
        else if (defect == QLatin1String("curveRound"))
            curve[5].round = round + 1;
        else
            r.sparsity = 30; // a percentage where a fraction belongs

        const QString msg = errorOf([&] { store->commitRound(r, curve, &newOrder); });
        QVERIFY2(msg.contains(path), qPrintable(msg));
        QVERIFY2(msg.contains(fragment), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("round %1").arg(round)), qPrintable(msg));

        // Seen from this connection and from a fresh one: nothing changed.
        const auto fresh = tl::ExperimentStore::open(path.toStdString());
        for (const tl::ExperimentStore *s : {store.get(), fresh.get()}) {
            QVERIFY(sameRounds(s->rounds(run), roundsBefore));
            QVERIFY(sameCurve(s->curve(run), curveBefore));
            QCOMPARE(*s->pruneOrder(run), order);
            QCOMPARE(s->run(run)->updatedAt, stampBefore);
            QVERIFY(s->rounds(run + 41).empty());
        }
        // The connection is usable afterwards (no transaction left open).
        store->commitRound(makeRound(run, 2, 0.5), makeCurve(2, 2));
        QCOMPARE(store->rounds(run).size(), size_t(3));
    }

    void foreignKeysAreEnforced()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.db"));
        auto store = tl::ExperimentStore::open(path.toStdString());
        const int64_t run = store->createRun(makeRun("h", 0));
        QString msg = errorOf([&] { store->recordTransfer({run, run + 5, 1, "MRPC", ""}); });
        QVERIFY2(msg.contains(path) && msg.contains(QStringLiteral("FOREIGN KEY")), qPrintable(msg));
        msg = errorOf([&] { store->recordTransfer({run + 5, run, 1, "MRPC", ""}); });
        QVERIFY2(msg.contains(QStringLiteral("FOREIGN KEY")), qPrintable(msg));
        msg = errorOf([&] { store->recordTransfer({run, 0, 0, "MRPC", ""}); });
        QVERIFY2(msg.contains(QStringLiteral("source run or a mask file")), qPrintable(msg));
        QVERIFY(!store->transfer(run));
        QVERIFY(!store->transfer(run + 5));

        // Replacing a transfer record is allowed (a resumed transfer run records it again).
        store->recordTransfer({run, run, 0, "MRPC", "a"});
        store->recordTransfer({run, 0, 0, "QNLI", "b"});
        QCOMPARE(store->transfer(run)->targetTask, std::string("QNLI"));
        QCOMPARE(store->transfer(run)->sourceRunId, int64_t(0));
    }

    void setRunStatus()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.db"));
        auto store = tl::ExperimentStore::open(path.toStdString());
        const int64_t run = store->createRun(makeRun("h", 0));
        store->setRunStatus(run, "failed", "CUDA out of memory");
        QCOMPARE(store->run(run)->status, std::string("failed"));
        QCOMPARE(store->run(run)->error, std::string("CUDA out of memory"));
        store->setRunStatus(run, "running");
        QCOMPARE(store->run(run)->error, std::string()); // resumed: the old error is gone
        store->setRunStatus(run, "done");
        QCOMPARE(store->run(run)->status, std::string("done"));

        QString msg = errorOf([&] { store->setRunStatus(run, "paused"); });
        QVERIFY2(msg.contains(path) && msg.contains(QStringLiteral("unknown run status")), qPrintable(msg));
        msg = errorOf([&] { store->setRunStatus(run + 1, "done"); });
        QVERIFY2(msg.contains(path) && msg.contains(QStringLiteral("no such run")), qPrintable(msg));
        QCOMPARE(store->run(run)->status, std::string("done"));
    }

    void readSnapshotSeesOneMoment()
    {
        // A reader made of several queries, while another connection commits in between:
        // inside readSnapshot every query sees the state of the first; afterwards the new one.
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("lab.db")).toStdString();
        auto reader = tl::ExperimentStore::open(path);
        auto writer = tl::ExperimentStore::open(path);
        const int64_t first = writer->createRun(makeRun("a", 0));
        size_t before = 0, during = 0;
        std::string statusDuring;
        reader->readSnapshot([&] {
            before = reader->runs().size();
            const int64_t second = writer->createRun(makeRun("b", 0));
            writer->setRunStatus(first, "done");
            QVERIFY(second > first);
            during = reader->runs().size();
            statusDuring = reader->run(first)->status;
        });
        QCOMPARE(before, size_t(1));
        QCOMPARE(during, size_t(1));
        QCOMPARE(statusDuring, makeRun("a", 0).status);
        QCOMPARE(reader->runs().size(), size_t(2));
        QCOMPARE(reader->run(first)->status, std::string("done"));
        // Nested in a write transaction it is that transaction's view; an exception propagates
        // and leaves no transaction open.
        QVERIFY_THROWS_EXCEPTION(std::runtime_error,
                                 reader->readSnapshot([] { throw std::runtime_error("from the body"); }));
        reader->inTransaction("nested", [&] { reader->readSnapshot([&] { reader->createRun(makeRun("c", 0)); }); });
        QCOMPARE(writer->runs().size(), size_t(3));
    }

    // clang-format off
    void findRun_data()
    {
        QTest::addColumn<QString>("hash");
        QTest::addColumn<qulonglong>("seed");
        QTest::addColumn<bool>("finishNewest");
        QTest::addColumn<QString>("expected"); // the spec label of the expected run, empty for none
        const qulonglong big = std::numeric_limits<uint64_t>::max();
        // A done run is the result: never resumed or repeated, even beside unfinished copies
        // (a database from before runs were idempotent).
        QTest::newRow("done beats newer unfinished") << "h1" << 0ull << false << "a";
        QTest::newRow("oldest done of two") << "h1" << 0ull << true << "a";
        QTest::newRow("other seed: unfinished") << "h1" << 1ull << false << "d";
        QTest::newRow("done beats older unfinished") << "h2" << 0ull << false << "h";
        QTest::newRow("only done") << "h3" << 0ull << false << "g";
        QTest::newRow("newest of unfinished") << "h4" << 0ull << false << "j";
        QTest::newRow("unknown hash") << "nope" << 0ull << false << "";
        QTest::newRow("seed above int64") << "h1" << big << false << "f";
        QTest::newRow("seed bits differ") << "h1" << (big - 1) << false << "";
    }
    // clang-format on

    void findRun()
    {
        QFETCH(QString, hash);
        QFETCH(qulonglong, seed);
        QFETCH(bool, finishNewest);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        const uint64_t big = std::numeric_limits<uint64_t>::max();
        struct Spec
        {
            const char *label, *hash;
            uint64_t seed;
            const char *status;
        };
        const Spec specs[] = {{"a", "h1", 0, "done"},      {"b", "h1", 0, "failed"}, {"c", "h1", 0, "cancelled"},
                              {"d", "h1", 1, "running"},   {"e", "h2", 0, "failed"}, {"f", "h1", big, "running"},
                              {"g", "h3", 0, "done"},      {"h", "h2", 0, "done"},   {"i", "h4", 0, "running"},
                              {"j", "h4", 0, "cancelled"}, {"k", "h4", 1, "failed"}};
        int64_t newestH1 = 0;
        for (const Spec &s : specs) {
            tl::RunRecord r = makeRun(s.hash, s.seed, s.status);
            r.specJson = std::string(R"({"label":")") + s.label + "\"}";
            const int64_t id = store->createRun(r);
            if (std::string(s.label) == "c")
                newestH1 = id;
        }
        if (finishNewest)
            store->setRunStatus(newestH1, "done");
        const auto found = store->findRun(hash.toStdString(), seed);
        if (expected.isEmpty()) {
            QVERIFY(!found);
        } else {
            QVERIFY(found);
            QCOMPARE(q(found->specJson), QStringLiteral(R"({"label":"%1"})").arg(expected));
            QCOMPARE(found->seed, uint64_t(seed));
        }
    }

    void deleteRuns()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.db"));
        auto store = tl::ExperimentStore::open(path.toStdString());
        const std::vector<char> order = {'o', 'r', 'd'};
        std::vector<int64_t> ids;
        for (int i = 0; i < 4; ++i) {
            const int64_t id = store->createRun(makeRun("h", uint64_t(i)));
            store->commitRound(makeRound(id, 0, 0.7), makeCurve(0, 3), &order);
            store->commitRound(makeRound(id, 1, 0.6), makeCurve(1, 2), &order);
            ids.push_back(id);
        }
        // Run 3 is a transfer from run 1's mask; run 4 from run 3's.
        store->recordTransfer({ids[2], ids[0], 1, "MRPC", ""});
        store->recordTransfer({ids[3], ids[2], 1, "CoLA", ""});
        QCOMPARE(store->transfersFrom(ids[0]), std::vector<int64_t>{ids[2]});
        // Checkpoints of runs 1 and 10-like names that must survive.
        QVERIFY(QDir().mkpath(q(tl::ExperimentStore::checkpointFolder(path.toStdString()))));
        const QString mine = q(store->checkpointFile(ids[0], 1));
        const QStringList files = {mine, mine + QStringLiteral(".rewind"),
                                   q(store->checkpointFile(ids[0], 0)) + QStringLiteral(".finetuned")};
        for (const QString &f : files)
            writeAll(f, "x");
        const QString other = q(store->checkpointFile(ids[1], 1));
        const QString lookalike = q(tl::ExperimentStore::checkpointFolder(path.toStdString())) +
                                  QStringLiteral("/run-%1-round-1.safetensors").arg(ids[0] * 10);
        writeAll(other, "x");
        writeAll(lookalike, "x");
        QVERIFY(mine.startsWith(q(tl::ExperimentStore::checkpointFolder(path.toStdString())) + QLatin1Char('/')));

        // Refused as a whole: an unknown id, or a source whose transfer stays.
        QString msg = errorOf([&] { store->deleteRuns({ids[1], 999}); });
        QVERIFY2(msg.contains(path) && msg.contains(QStringLiteral("no run 999")), qPrintable(msg));
        msg = errorOf([&] { store->deleteRuns({ids[0]}); });
        QVERIFY2(msg.contains(QStringLiteral("source of transfer run %1").arg(ids[2])), qPrintable(msg));
        msg = errorOf([&] { store->deleteRuns({ids[0], ids[2]}); }); // run 4 still uses run 3
        QVERIFY2(msg.contains(QStringLiteral("source of transfer run %1").arg(ids[3])), qPrintable(msg));
        QCOMPARE(store->runs().size(), size_t(4));
        QCOMPARE(store->rounds(ids[1]).size(), size_t(2));
        for (const QString &f : files)
            QVERIFY(QFile::exists(f));

        store->deleteRuns({ids[0], ids[2], ids[3]});
        QCOMPARE(store->runs().size(), size_t(1));
        QCOMPARE(store->runs()[0].id, ids[1]);
        for (int64_t id : {ids[0], ids[2], ids[3]}) {
            QVERIFY(!store->run(id));
            QVERIFY(store->rounds(id).empty());
            QVERIFY(store->curve(id).empty());
            QVERIFY(!store->pruneOrder(id));
            QVERIFY(!store->transfer(id));
        }
        for (const QString &f : files)
            QVERIFY2(!QFile::exists(f), qPrintable(f));
        QVERIFY(QFile::exists(other));
        QVERIFY(QFile::exists(lookalike));
        // The survivor is untouched.
        QCOMPARE(store->rounds(ids[1]).size(), size_t(2));
        QVERIFY(sameCurve(store->curve(ids[1]), [] {
            auto c = makeCurve(0, 3);
            const auto c1 = makeCurve(1, 2);
            c.insert(c.end(), c1.begin(), c1.end());
            return c;
        }()));
        QCOMPARE(*store->pruneOrder(ids[1]), order);
        // A deleted run's id is never given out again (specs and transfer records name ids).
        QCOMPARE(store->createRun(makeRun("h", 9)), ids[3] + 1);
        store->deleteRuns({ids[3] + 1});
        QCOMPARE(store->createRun(makeRun("h", 9)), ids[3] + 2);
        RawDb raw(path);
        QCOMPARE(raw.text("SELECT count(*) FROM curves"), QStringLiteral("5"));
        QCOMPARE(raw.text("PRAGMA foreign_key_check"), QString());
    }

    void pruneOrderPrefix()
    {
        // The first bytes of a large blob without reading the rest; all of a short one.
        QTemporaryDir dir;
        auto store = tl::ExperimentStore::open(dir.filePath(QStringLiteral("lab.db")).toStdString());
        const int64_t id = store->createRun(makeRun("0123456789abcdef", 1));
        QVERIFY(!store->pruneOrderPrefix(id, 16));
        std::vector<char> blob(3 << 20);
        for (size_t i = 0; i < blob.size(); ++i)
            blob[i] = char(i * 7 + (i >> 12));
        store->commitRound(makeRound(id, 1, 0.5), {}, &blob);
        const auto head = store->pruneOrderPrefix(id, 1000);
        QVERIFY(head);
        QCOMPARE(*head, std::vector<char>(blob.begin(), blob.begin() + 1000));
        QCOMPARE(*store->pruneOrderPrefix(id, 10u << 20), blob);
    }
};

QTEST_APPLESS_MAIN(TestExperimentStore)
#include "tst_experimentstore.moc"

// The experiment store's file: migrations, refusing newer or foreign files, concurrent readers.

#include "storetestutil.h"
#include "testruns.h"

using namespace storetest;

class TestStoreSchema : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void migratesVersion1()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("old.db"));
        {
            RawDb raw(path);
            QVERIFY(raw.exec(kVersion1Ddl));
            QVERIFY(raw.exec(R"sql(
                INSERT INTO models(id, path, config_json, content_hash) VALUES(1, '/m', '{}', 'mh');
                INSERT INTO datasets(id, task, path, content_hash) VALUES(1, 'RTE', '/d', 'dh');
                INSERT INTO runs(id, kind, status, spec_json, spec_hash, seed, model_id, dataset_id, task,
                    ticketlab_version, device, threads, created_at, updated_at)
                VALUES(7, 'imp', 'failed', '{}', 'hash', -1, 1, 1, 'RTE', '0.0.1', 'cpu', 4,
                    '2024-01-01T00:00:00.000Z', '2024-01-01T01:00:00.000Z');
                INSERT INTO rounds(run_id, round, sparsity, dev_metrics, steps, committed_at)
                    VALUES(7, 0, 0, '{"accuracy":0.66}', 50, '2024-01-01T00:30:00.000Z');
                INSERT INTO curves(run_id, round, step, loss, lr) VALUES(7, 0, 0, 0.9, 1e-5), (7, 0, 10, NULL, 2e-5);
                INSERT INTO prune_orders(run_id, data, updated_at) VALUES(7, x'00ff10', '2024-01-01T00:30:00.000Z');
            )sql"));
        }
        {
            auto store = tl::ExperimentStore::open(path.toStdString());
            QCOMPARE(store->schemaVersion(), tl::ExperimentStore::currentSchemaVersion());
            QCOMPARE(store->schemaVersion(), 4);
            const auto run = store->run(7);
            QVERIFY(run);
            QCOMPARE(run->status, std::string("failed"));
            QCOMPARE(run->seed, std::numeric_limits<uint64_t>::max()); // -1 as int64: the same bits
            QCOMPARE(run->threads, 4);
            QCOMPARE(run->updatedAt, std::string("2024-01-01T01:00:00.000Z"));
            QCOMPARE(run->error, std::string()); // the new columns' defaults
            QCOMPARE(run->repetition, 0);
            QCOMPARE(run->torchVersion, std::string());
            QCOMPARE(run->blas, std::string());
            QCOMPARE(store->model(1)->contentHash, std::string("mh"));
            QCOMPARE(store->dataset(1)->task, std::string("RTE"));
            QCOMPARE(store->rounds(7).size(), size_t(1));
            QCOMPARE(store->rounds(7)[0].devMetricsJson, std::string(R"({"accuracy":0.66})"));
            const auto curve = store->curve(7);
            QCOMPARE(curve.size(), size_t(2));
            QVERIFY(std::isnan(curve[1].loss));
            QCOMPARE(*store->pruneOrder(7), std::vector<char>({'\0', '\xff', '\x10'}));
            QCOMPARE(store->findRun("hash", std::numeric_limits<uint64_t>::max())->id, int64_t(7));

            // What version 2 added works.
            store->setRunStatus(7, "failed", "diverged");
            QCOMPARE(store->run(7)->error, std::string("diverged"));
            const int64_t t = store->createRun(makeRun("t", 0));
            store->recordTransfer({t, 7, 0, "MRPC", ""});
            QCOMPARE(store->transfer(t)->sourceRunId, int64_t(7));
            store->commitRound(makeRound(7, 1, 0.6), makeCurve(1, 2));
        }
        auto again = tl::ExperimentStore::open(path.toStdString()); // already current: nothing to do
        QCOMPARE(again->schemaVersion(), 4);
        QCOMPARE(again->rounds(7).size(), size_t(2));
        RawDb raw(path);
        QCOMPARE(raw.text("SELECT value FROM meta WHERE key = 'schema_version'"), QStringLiteral("4"));
        QCOMPARE(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'transfers'"), QStringLiteral("1"));
        QCOMPARE(raw.text("PRAGMA foreign_key_check"), QString());
        QCOMPARE(raw.text("PRAGMA integrity_check"), QStringLiteral("ok"));
    }

    void migratesVersion2()
    {
        // A version-2 file (as released) with a finished run, a failed one and a transfer:
        // version 3 adds the run's repetition index and LibTorch / BLAS versions.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("v2.db"));
        {
            RawDb raw(path);
            QVERIFY(raw.exec(kVersion1Ddl));
            QVERIFY(raw.exec(kVersion2Ddl));
            QVERIFY(raw.exec(R"sql(
                INSERT INTO runs(id, kind, status, spec_json, spec_hash, seed, task, ticketlab_version, device,
                    threads, created_at, updated_at, error)
                VALUES(1, 'imp', 'done', '{}', 'h', 0, 'RTE', '0.1.0', 'cpu', 0, 't0', 't1', ''),
                      (2, 'transfer', 'failed', '{}', 'g', 0, 'MRPC', '0.1.0', 'cpu', 4, 't0', 't1', 'boom');
                INSERT INTO transfers(run_id, source_run_id, source_round, target_task) VALUES(2, 1, 1, 'MRPC');
            )sql"));
        }
        auto store = tl::ExperimentStore::open(path.toStdString());
        QCOMPARE(store->schemaVersion(), 4);
        const auto failed = store->run(2);
        QCOMPARE(failed->error, std::string("boom"));
        QCOMPARE(failed->threads, 4);
        QCOMPARE(failed->repetition, 0);
        QCOMPARE(failed->torchVersion, std::string());
        QCOMPARE(store->transfer(2)->sourceRunId, int64_t(1));
        QCOMPARE(store->findRun("h", 0)->id, int64_t(1));
        tl::RunRecord r = makeRun("h", 0);
        r.repetition = 1;
        r.torchVersion = "1.13.0";
        r.blas = "OpenBLAS";
        const int64_t id = store->createRun(r);
        QCOMPARE(store->run(id)->repetition, 1);
        QCOMPARE(store->run(id)->blas, std::string("OpenBLAS"));
        r.repetition = -1;
        QVERIFY(errorOf([&] { store->createRun(r); }).contains(QStringLiteral("negative repetition")));
        RawDb raw(path);
        QCOMPARE(raw.text("SELECT value FROM meta WHERE key = 'schema_version'"), QStringLiteral("4"));
        QVERIFY(!raw.exec("UPDATE runs SET repetition = -2 WHERE id = 1")); // CHECK(repetition >= 0)
        QCOMPARE(raw.text("PRAGMA integrity_check"), QStringLiteral("ok"));
    }

    void migratesVersion3()
    {
        // A version-3 file (as released) with a finished IMP run: version 4 adds early-bird mask
        // distances, the round's early-bird step and stored analyses.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("v3.db"));
        {
            RawDb raw(path);
            QVERIFY(raw.exec(kVersion1Ddl));
            QVERIFY(raw.exec(kVersion2Ddl));
            QVERIFY(raw.exec(kVersion3Ddl));
            QVERIFY(raw.exec(R"sql(
                INSERT INTO models(id, path, config_json, content_hash) VALUES(1, '/m', '{}', 'mh');
                INSERT INTO runs(id, kind, status, spec_json, spec_hash, seed, task, ticketlab_version, device,
                    threads, created_at, updated_at, error, repetition, torch_version, blas)
                VALUES(1, 'imp', 'done', '{}', 'h', 0, 'RTE', '0.2.0', 'cpu', 2, 't0', 't1', '', 0, '1.13.0', 'x');
                INSERT INTO rounds(run_id, round, sparsity, dev_metrics, steps, committed_at)
                    VALUES(1, 0, 0, '{"accuracy":0.6}', 40, 't1'), (1, 1, 0.2, '{"accuracy":0.58}', 40, 't1');
            )sql"));
        }
        auto store = tl::ExperimentStore::open(path.toStdString());
        QCOMPARE(store->schemaVersion(), 4);
        const auto rounds = store->rounds(1);
        QCOMPARE(rounds.size(), size_t(2));
        QCOMPARE(rounds[1].earlyBirdStep, int64_t(0)); // NULL: ran its whole schedule
        QVERIFY(store->maskDistances(1).empty());
        QVERIFY(store->analyses().empty());

        tl::RoundRecord r = makeRound(1, 2, 0.4);
        r.earlyBirdStep = 30;
        store->commitRound(r, makeCurve(2, 3), nullptr, {{2, 10, 0.5}, {2, 20, 0.25}, {2, 30, 0.05}});
        QCOMPARE(store->rounds(1)[2].earlyBirdStep, int64_t(30));
        const auto d = store->maskDistances(1);
        QCOMPARE(d.size(), size_t(3));
        QCOMPARE(d[1].step, int64_t(20));
        QCOMPARE(d[1].distance, 0.25);

        tl::AnalysisRecord a;
        a.kind = "sensitivity";
        a.modelId = 1;
        a.task = "RTE";
        a.resultJson = R"({"x":1})";
        const int64_t id = store->addAnalysis(a);
        QCOMPARE(store->analysis(id)->task, std::string("RTE"));
        QCOMPARE(store->analyses("sensitivity").size(), size_t(1));
        QVERIFY(store->analyses("other").empty());
        a.resultJson = "[1]";
        QVERIFY(errorOf([&] { store->addAnalysis(a); }).contains(QStringLiteral("result is not a JSON object")));
        a.resultJson = "{}";
        a.modelId = 99; // no such model: the foreign key refuses it
        QVERIFY(!errorOf([&] { store->addAnalysis(a); }).isEmpty());
        QCOMPARE(store->analyses().size(), size_t(1));

        RawDb raw(path);
        QCOMPARE(raw.text("SELECT value FROM meta WHERE key = 'schema_version'"), QStringLiteral("4"));
        QVERIFY(!raw.exec("INSERT INTO mask_distances VALUES(1, 2, 40, 1.5)")); // CHECK(distance <= 1)
        QCOMPARE(raw.text("PRAGMA foreign_key_check"), QString());
        QCOMPARE(raw.text("PRAGMA integrity_check"), QStringLiteral("ok"));
    }

    void failedMigrationRollsBack()
    {
        // A version-1 file where migration 2 cannot run (someone created a transfers table by
        // hand): the file must stay a consistent version 1, not half of version 2.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("old.db"));
        {
            RawDb raw(path);
            QVERIFY(raw.exec(kVersion1Ddl));
            QVERIFY(raw.exec("CREATE TABLE transfers(note TEXT);"));
        }
        const QString msg = errorOf([&] { tl::ExperimentStore::open(path.toStdString()); });
        QVERIFY2(msg.contains(path), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("migration to schema version 2")), qPrintable(msg));
        RawDb raw(path);
        QCOMPARE(raw.text("SELECT value FROM meta WHERE key = 'schema_version'"), QStringLiteral("1"));
        QCOMPARE(raw.text("SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'error'"), QStringLiteral("0"));
        QCOMPARE(raw.text("PRAGMA integrity_check"), QStringLiteral("ok"));
    }

    void freshAndMigratedSchemasAgree()
    {
        // Both paths must end in the same tables, columns and indexes.
        QTemporaryDir dir;
        const QString fresh = dir.filePath(QStringLiteral("fresh.db"));
        const QString old = dir.filePath(QStringLiteral("old.db"));
        tl::ExperimentStore::open(fresh.toStdString());
        {
            RawDb raw(old);
            QVERIFY(raw.exec(kVersion1Ddl));
        }
        tl::ExperimentStore::open(old.toStdString());
        const char *describe = "SELECT group_concat(name || ':' || type, ',') FROM "
                               "(SELECT name, type FROM sqlite_master ORDER BY name)";
        const char *runColumns = "SELECT group_concat(name || ' ' || type || ' ' || \"notnull\", ',') "
                                 "FROM pragma_table_info('runs')";
        RawDb a(fresh), b(old);
        QCOMPARE(a.text(describe), b.text(describe));
        QCOMPARE(a.text(runColumns), b.text(runColumns));
        QVERIFY(a.text(describe).contains(QStringLiteral("runs_by_spec:index")));
        QVERIFY(a.text(runColumns)
                    .endsWith(QStringLiteral("error TEXT 1,repetition INTEGER 1,torch_version TEXT 1,blas TEXT 1")));
    }

    void refusesNewerSchema()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("future.db"));
        {
            RawDb raw(path);
            QVERIFY(raw.exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                             "INSERT INTO meta VALUES('schema_version', '999');"
                             "CREATE TABLE runs(id INTEGER PRIMARY KEY, hologram BLOB);"));
        }
        QVERIFY(sideFiles(path).isEmpty());
        const QByteArray before = readAll(path);
        QVERIFY(!before.isEmpty());

        const QString msg = errorOf([&] { tl::ExperimentStore::open(path.toStdString()); });
        QVERIFY2(msg.contains(path), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("newer")), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("999")), qPrintable(msg));
        QCOMPARE(readAll(path), before);
        QVERIFY2(sideFiles(path).isEmpty(), qPrintable(sideFiles(path).join(QLatin1Char(' '))));
    }

    // clang-format off
    void refusesForeignFiles_data()
    {
        QTest::addColumn<QByteArray>("content"); // raw bytes, or "sql:" and DDL for an SQLite file
        QTest::addColumn<QString>("fragment");
        QByteArray binary(4096, '\0');
        for (int i = 0; i < binary.size(); ++i)
            binary[i] = static_cast<char>((i * 7919) % 251);
        QTest::newRow("text") << QByteArray("run,round,accuracy\n1,0,0.66\n").repeated(20)
                              << "not an SQLite database";
        QTest::newRow("binary") << binary << "not an SQLite database";
        QTest::newRow("other application")
            << QByteArray("sql:CREATE TABLE songs(id INTEGER PRIMARY KEY, title TEXT);") << "no meta table";
        QTest::newRow("meta without version")
            << QByteArray("sql:CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES('owner', 'x');")
            << "no schema_version";
        QTest::newRow("corrupt version")
            << QByteArray("sql:CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES('schema_version', "
                          "'two');")
            << "corrupt meta.schema_version";
    }
    // clang-format on

    void refusesForeignFiles()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, fragment);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("not-a-lab.db"));
        if (content.startsWith("sql:")) {
            RawDb raw(path);
            QVERIFY(raw.exec(content.mid(4).constData()));
        } else {
            writeAll(path, content);
        }
        const QByteArray before = readAll(path);
        const QString msg = errorOf([&] { tl::ExperimentStore::open(path.toStdString()); });
        QVERIFY2(msg.contains(path), qPrintable(msg));
        QVERIFY2(msg.contains(fragment), qPrintable(msg));
        QCOMPARE(readAll(path), before);
        QVERIFY(sideFiles(path).isEmpty());
    }

    void refusesTruncatedLab()
    {
        // A lab cut short (a copy that ran out of room, a partial download): a clear error, and
        // the file is left exactly as it was, with no -wal or -shm beside it.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("cut.db"));
        {
            auto store = tl::ExperimentStore::open(path.toStdString());
            for (uint64_t seed = 0; seed < 20; ++seed)
                tltest::RunBuilder(tl::RunKind::Imp, "RTE", seed)
                    .rounds({{0.0, 0.6}, {0.1, 0.59}, {0.2, 0.58}})
                    .curve(200)
                    .create(*store);
        }
        QByteArray whole = readAll(path);
        QVERIFY(whole.size() > 16 * 4096);
        writeAll(path, whole.left(whole.size() / 2));
        const QByteArray before = readAll(path);
        const QString msg = errorOf([&] {
            auto store = tl::ExperimentStore::open(path.toStdString());
            store->runs();
        });
        QVERIFY2(msg.contains(path), qPrintable(msg));
        QVERIFY2(msg.contains(QStringLiteral("malformed")), qPrintable(msg));
        QCOMPARE(readAll(path), before);
        QVERIFY2(sideFiles(path).isEmpty(), qPrintable(sideFiles(path).join(QLatin1Char(' '))));
    }

    void cannotOpen()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("no/such/folder/lab.db"));
        const QString msg = errorOf([&] { tl::ExperimentStore::open(path.toStdString()); });
        QVERIFY2(msg.contains(path) && msg.contains(QStringLiteral("cannot open")), qPrintable(msg));
        QVERIFY(!errorOf([] { tl::ExperimentStore::open(""); }).isEmpty());
    }

    void readerSeesOnlyCommittedRounds()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("lab.db"));
        auto writerStore = tl::ExperimentStore::open(path.toStdString());
        const int64_t run = writerStore->createRun(makeRun("h", 0));
        writerStore->commitRound(makeRound(run, 0, 0.7), makeCurve(0, 3));

        // Another process in the middle of writing round 1: its transaction is open.
        RawDb writer(path);
        QVERIFY(writer.exec("BEGIN IMMEDIATE"));
        const std::string insert = "INSERT INTO rounds(run_id, round, sparsity, committed_at) VALUES(" +
                                   std::to_string(run) +
                                   ", 1, 0.1, 'now');"
                                   "INSERT INTO curves(run_id, round, step, loss, lr) VALUES(" +
                                   std::to_string(run) + ", 1, 0, 0.5, 1e-5);";
        QVERIFY(writer.exec(insert.c_str()));

        // A reader opened now, and one opened before, both see round 0 only, without waiting
        // for the writer (WAL: readers are never blocked).
        QElapsedTimer timer;
        timer.start();
        auto reader = tl::ExperimentStore::open(path.toStdString());
        QCOMPARE(reader->rounds(run).size(), size_t(1));
        QCOMPARE(reader->curve(run).size(), size_t(3));
        QCOMPARE(writerStore->rounds(run).size(), size_t(1));
        QVERIFY2(timer.elapsed() < tl::ExperimentStore::busyTimeoutMs() / 2, "the reader waited for the writer");

        QVERIFY(writer.exec("COMMIT"));
        QCOMPARE(reader->rounds(run).size(), size_t(2));
        QCOMPARE(reader->curve(run).size(), size_t(4));

        // A second writer waits for the first (busy timeout) instead of failing.
        QVERIFY(writer.exec("BEGIN IMMEDIATE"));
        std::thread release([&writer] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            writer.exec("COMMIT");
        });
        timer.restart();
        const QString msg = errorOf([&] { reader->commitRound(makeRound(run, 2, 0.6), makeCurve(2, 2)); });
        const qint64 waited = timer.elapsed();
        release.join();
        QVERIFY2(msg.isEmpty(), qPrintable(msg));
        QVERIFY2(waited >= 200, qPrintable(QString::number(waited)));
        QCOMPARE(writerStore->rounds(run).size(), size_t(3));
    }
};

QTEST_APPLESS_MAIN(TestStoreSchema)
#include "tst_storeschema.moc"

#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include <sqlite3.h>

#include "store/experiment_store.h"
#include "util/error.h"

namespace {

// The version-1 schema exactly as released, written out here rather than taken from
// schema.cpp: the migration test must start from what old files really hold.
const char *const kVersion1Ddl = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE models(id INTEGER PRIMARY KEY, path TEXT NOT NULL, config_json TEXT NOT NULL DEFAULT '{}',
    content_hash TEXT NOT NULL, UNIQUE(path, content_hash));
CREATE TABLE datasets(id INTEGER PRIMARY KEY, task TEXT NOT NULL, path TEXT NOT NULL, content_hash TEXT NOT NULL,
    UNIQUE(task, path, content_hash));
CREATE TABLE runs(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK(status IN ('running', 'done', 'failed', 'cancelled')),
    spec_json TEXT NOT NULL, spec_hash TEXT NOT NULL, seed INTEGER NOT NULL,
    model_id INTEGER REFERENCES models(id), dataset_id INTEGER REFERENCES datasets(id),
    task TEXT NOT NULL, ticketlab_version TEXT NOT NULL, device TEXT NOT NULL, threads INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX runs_by_spec ON runs(spec_hash, seed);
CREATE INDEX runs_by_task ON runs(task);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE rounds(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    round INTEGER NOT NULL CHECK(round >= 0),
    sparsity REAL NOT NULL CHECK(sparsity >= 0 AND sparsity <= 1),
    train_metrics TEXT NOT NULL DEFAULT '{}', dev_metrics TEXT NOT NULL DEFAULT '{}',
    train_seconds REAL NOT NULL DEFAULT 0, eval_seconds REAL NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0 CHECK(steps >= 0), committed_at TEXT NOT NULL,
    PRIMARY KEY(run_id, round));
CREATE TABLE curves(run_id INTEGER NOT NULL, round INTEGER NOT NULL, step INTEGER NOT NULL CHECK(step >= 0),
    loss REAL, lr REAL NOT NULL,
    FOREIGN KEY(run_id, round) REFERENCES rounds(run_id, round) ON DELETE CASCADE);
CREATE INDEX curves_by_run ON curves(run_id, round, step);
CREATE TABLE prune_orders(run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    data BLOB NOT NULL, updated_at TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES('schema_version', '1');
)sql";

/// A raw connection for what the store's API cannot do: build old or foreign files, hold a
/// transaction open, look at pragmas.
class RawDb
{
public:
    explicit RawDb(const QString &path)
    {
        if (sqlite3_open_v2(path.toUtf8().constData(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
            SQLITE_OK)
            qFatal("cannot open %s", qPrintable(path));
        sqlite3_busy_timeout(m_db, 5000);
    }
    ~RawDb() { sqlite3_close_v2(m_db); }
    RawDb(const RawDb &) = delete;
    RawDb &operator=(const RawDb &) = delete;

    bool exec(const char *sql)
    {
        char *message = nullptr;
        const bool ok = sqlite3_exec(m_db, sql, nullptr, nullptr, &message) == SQLITE_OK;
        if (!ok)
            qWarning("sqlite: %s", message ? message : "?");
        sqlite3_free(message);
        return ok;
    }
    QString text(const char *sql)
    {
        sqlite3_stmt *stmt = nullptr;
        QString out;
        if (sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
            out = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0)));
        sqlite3_finalize(stmt);
        return out;
    }

private:
    sqlite3 *m_db = nullptr;
};

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeAll(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(bytes), bytes.size());
}

/// The tl::Error message of f(), or a null string when it did not throw.
template <class F> QString errorOf(F &&f)
{
    try {
        f();
    } catch (const tl::Error &e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

tl::RunRecord makeRun(const std::string &specHash, uint64_t seed, const std::string &status = "running")
{
    tl::RunRecord r;
    r.kind = "imp";
    r.status = status;
    r.specJson = R"({"kind":"imp","task":"RTE"})";
    r.specHash = specHash;
    r.seed = seed;
    r.task = "RTE";
    r.device = "cpu";
    r.threads = 2;
    return r;
}

tl::RoundRecord makeRound(int64_t runId, int round, double devAccuracy)
{
    tl::RoundRecord r;
    r.runId = runId;
    r.round = round;
    r.sparsity = 0.1 * round;
    r.trainMetricsJson = R"({"loss":0.5})";
    r.devMetricsJson = R"({"accuracy":)" + std::to_string(devAccuracy) + "}";
    r.trainSeconds = 12.5;
    r.evalSeconds = 1.25;
    r.steps = 100 * (round + 1);
    return r;
}

std::vector<tl::CurvePoint> makeCurve(int round, int points)
{
    std::vector<tl::CurvePoint> out;
    for (int i = 0; i < points; ++i)
        out.push_back({round, i * 10, 1.0 / (i + 1), 2e-5 * (points - i)});
    return out;
}

bool sameCurve(const std::vector<tl::CurvePoint> &a, const std::vector<tl::CurvePoint> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        const bool lossSame = (std::isnan(a[i].loss) && std::isnan(b[i].loss)) || a[i].loss == b[i].loss;
        if (a[i].round != b[i].round || a[i].step != b[i].step || !lossSame || a[i].lr != b[i].lr)
            return false;
    }
    return true;
}

bool sameRounds(const std::vector<tl::RoundRecord> &a, const std::vector<tl::RoundRecord> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].runId != b[i].runId || a[i].round != b[i].round || a[i].sparsity != b[i].sparsity ||
            a[i].trainMetricsJson != b[i].trainMetricsJson || a[i].devMetricsJson != b[i].devMetricsJson ||
            a[i].trainSeconds != b[i].trainSeconds || a[i].evalSeconds != b[i].evalSeconds || a[i].steps != b[i].steps)
            return false;
    }
    return true;
}

QStringList sideFiles(const QString &dbPath)
{
    QStringList out;
    for (const char *suffix : {"-wal", "-shm", "-journal"}) {
        if (QFile::exists(dbPath + QLatin1String(suffix)))
            out << dbPath + QLatin1String(suffix);
    }
    return out;
}

} // namespace

class TestExperimentStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
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
            runId = store->createRun(r);
            QVERIFY(!store->pruneOrder(runId));
            store->commitRound(makeRound(runId, 0, 0.66), makeCurve(0, 4));
            store->commitRound(makeRound(runId, 1, 0.65), curve1, &order);

            tl::RunRecord t = makeRun("feed", 3);
            t.kind = "transfer";
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
        QCOMPARE(run->kind, std::string("imp"));
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
        QTest::newRow("kind") << "kind" << "lottery" << "unknown run kind";
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
        if (field == QLatin1String("kind"))
            r.kind = v;
        else if (field == QLatin1String("status"))
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
        for (const std::string &kind : tl::ExperimentStore::runKinds()) {
            tl::RunRecord r = makeRun("h", 0);
            r.kind = kind;
            QCOMPARE(store->run(store->createRun(r))->kind, kind);
        }
        QCOMPARE(store->runs().size(), tl::ExperimentStore::runKinds().size());
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

    // clang-format off
    void findResumableRun_data()
    {
        QTest::addColumn<QString>("hash");
        QTest::addColumn<qulonglong>("seed");
        QTest::addColumn<bool>("finishNewest");
        QTest::addColumn<QString>("expected"); // the spec label of the expected run, empty for none
        const qulonglong big = std::numeric_limits<uint64_t>::max();
        QTest::newRow("newest of three unfinished") << "h1" << 0ull << false << "c";
        QTest::newRow("newest finished: the one before") << "h1" << 0ull << true << "b";
        QTest::newRow("other seed") << "h1" << 1ull << false << "d";
        QTest::newRow("other hash") << "h2" << 0ull << false << "e";
        QTest::newRow("only done runs") << "h3" << 0ull << false << "";
        QTest::newRow("unknown hash") << "nope" << 0ull << false << "";
        QTest::newRow("seed above int64") << "h1" << big << false << "f";
        QTest::newRow("seed bits differ") << "h1" << (big - 1) << false << "";
    }
    // clang-format on

    void findResumableRun()
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
        const Spec specs[] = {{"a", "h1", 0, "done"},    {"b", "h1", 0, "failed"}, {"c", "h1", 0, "cancelled"},
                              {"d", "h1", 1, "running"}, {"e", "h2", 0, "failed"}, {"f", "h1", big, "running"},
                              {"g", "h3", 0, "done"},    {"h", "h2", 0, "done"}};
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
        const auto found = store->findResumableRun(hash.toStdString(), seed);
        if (expected.isEmpty()) {
            QVERIFY(!found);
        } else {
            QVERIFY(found);
            QCOMPARE(q(found->specJson), QStringLiteral(R"({"label":"%1"})").arg(expected));
            QCOMPARE(found->seed, uint64_t(seed));
        }
    }

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
            QCOMPARE(store->schemaVersion(), 2);
            const auto run = store->run(7);
            QVERIFY(run);
            QCOMPARE(run->status, std::string("failed"));
            QCOMPARE(run->seed, std::numeric_limits<uint64_t>::max()); // -1 as int64: the same bits
            QCOMPARE(run->threads, 4);
            QCOMPARE(run->updatedAt, std::string("2024-01-01T01:00:00.000Z"));
            QCOMPARE(run->error, std::string()); // the new column's default
            QCOMPARE(store->model(1)->contentHash, std::string("mh"));
            QCOMPARE(store->dataset(1)->task, std::string("RTE"));
            QCOMPARE(store->rounds(7).size(), size_t(1));
            QCOMPARE(store->rounds(7)[0].devMetricsJson, std::string(R"({"accuracy":0.66})"));
            const auto curve = store->curve(7);
            QCOMPARE(curve.size(), size_t(2));
            QVERIFY(std::isnan(curve[1].loss));
            QCOMPARE(*store->pruneOrder(7), std::vector<char>({'\0', '\xff', '\x10'}));
            QCOMPARE(store->findResumableRun("hash", std::numeric_limits<uint64_t>::max())->id, int64_t(7));

            // What version 2 added works.
            store->setRunStatus(7, "failed", "diverged");
            QCOMPARE(store->run(7)->error, std::string("diverged"));
            const int64_t t = store->createRun(makeRun("t", 0));
            store->recordTransfer({t, 7, 0, "MRPC", ""});
            QCOMPARE(store->transfer(t)->sourceRunId, int64_t(7));
            store->commitRound(makeRound(7, 1, 0.6), makeCurve(1, 2));
        }
        auto again = tl::ExperimentStore::open(path.toStdString()); // already current: nothing to do
        QCOMPARE(again->schemaVersion(), 2);
        QCOMPARE(again->rounds(7).size(), size_t(2));
        RawDb raw(path);
        QCOMPARE(raw.text("SELECT value FROM meta WHERE key = 'schema_version'"), QStringLiteral("2"));
        QCOMPARE(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'transfers'"), QStringLiteral("1"));
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
        QVERIFY(a.text(runColumns).endsWith(QStringLiteral("error TEXT 1")));
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

QTEST_APPLESS_MAIN(TestExperimentStore)
#include "tst_experimentstore.moc"

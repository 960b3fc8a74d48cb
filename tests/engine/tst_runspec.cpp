#include <algorithm>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "engine/run_spec.h"
#include "testdata.h"
#include "util/error.h"

using nlohmann::json;

namespace {

// The example of the header comment (and the README).
const char *const kExample = R"({
  "model": "path/to/hf-folder", "task": "RTE", "data_dir": "path/to/RTE",
  "kind": "imp",
  "prune": {"method": "global_magnitude", "schedule": "linear", "step": 0.1, "rounds": 3, "target_sparsity": null,
            "include_pooler": true, "include_embeddings": false},
  "rewind": "pretrained",
  "head": "keep",
  "train": {"epochs": 1, "max_steps": null, "lr": 2e-5, "batch_size": 32, "max_seq_len": 128, "warmup": 0.0,
            "weight_decay": 0.01, "eval_batch_size": 64},
  "seeds": [0], "threads": 2, "device": "cpu",
  "criterion": "within_std"
})";

json minimal()
{
    return {{"model", "m"}, {"task", "rte"}, {"data_dir", "d"}};
}

tl::RunSpec parse(const json &j)
{
    return tl::RunSpec::fromJson(j, "spec.json");
}

void compareSparsities(const std::vector<double> &got, const std::vector<double> &want)
{
    QCOMPARE(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
        QVERIFY2(std::abs(got[i] - want[i]) < 1e-12, qPrintable(QString::number(got[i], 'g', 17)));
}

// A data row of QString columns, kept on one line so the tables stay readable.
template <typename... Columns> void row(const char *name, const Columns &...columns)
{
    (QTest::newRow(name) << ... << QString::fromUtf8(columns));
}

} // namespace

class TestRunSpec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parsesTheExample()
    {
        const tl::RunSpec s = parse(json::parse(kExample));
        QCOMPARE(s.model, std::string("path/to/hf-folder"));
        QCOMPARE(s.task, std::string("RTE"));
        QCOMPARE(s.dataDir, std::string("path/to/RTE"));
        QCOMPARE(s.kind, tl::RunKind::Imp);
        QCOMPARE(s.prune.method, std::string("global_magnitude"));
        QCOMPARE(s.prune.schedule, std::string("linear"));
        QCOMPARE(s.prune.step, 0.1);
        QCOMPARE(s.prune.rounds, 3);
        QCOMPARE(s.prune.targetSparsity, 0.0);
        QVERIFY(s.prune.includePooler);
        QVERIFY(!s.prune.includeEmbeddings);
        QVERIFY(s.rewind.pretrained);
        QCOMPARE(s.head, std::string("keep"));
        QCOMPARE(s.train.epochs, 1);
        QCOMPARE(s.train.maxSteps, int64_t(-1));
        QCOMPARE(s.train.lr, 2e-5);
        QCOMPARE(s.train.batchSize, 32);
        QCOMPARE(s.train.maxSeqLen, 128);
        QCOMPARE(s.train.evalBatchSize, 64);
        QCOMPARE(s.train.warmup, 0.0);
        QCOMPARE(s.train.weightDecay, 0.01);
        QCOMPARE(s.seeds, std::vector<uint64_t>{0});
        QCOMPARE(s.threads, 2);
        QCOMPARE(s.device, std::string("cpu"));
        QCOMPARE(s.criterion, std::string("within_std"));
        QVERIFY(!s.source);
        compareSparsities(s.prune.sparsities(), {0.1, 0.2, 0.3});
    }

    void transferSourceAndRewindStep()
    {
        json j = minimal();
        j["kind"] = "transfer";
        j["source"] = {{"run", 12}, {"round", 5}};
        j["rewind"] = {{"step", 1000}};
        j["train"] = {{"max_steps", 500}};
        j["task"] = "MLM";
        j["seeds"] = {3, 1, 2};
        j["device"] = "cuda:1";
        tl::RunSpec s = parse(j);
        QVERIFY(s.source);
        QCOMPARE(s.source->run, int64_t(12));
        QCOMPARE(s.source->round, 5);
        QVERIFY(!s.source->fromFile());
        QVERIFY(!s.rewind.pretrained);
        QCOMPARE(s.rewind.step, int64_t(1000));
        QCOMPARE(s.train.maxSteps, int64_t(500));
        QCOMPARE(s.task, std::string("mlm"));
        QCOMPARE(s.seeds, (std::vector<uint64_t>{3, 1, 2}));

        j["source"] = {{"mask_file", "masks/a.safetensors"}};
        s = parse(j);
        QVERIFY(s.source->fromFile());
        QCOMPARE(s.source->maskFile, std::string("masks/a.safetensors"));
    }

    void defaults()
    {
        const tl::RunSpec s = parse(minimal());
        QCOMPARE(s.task, std::string("RTE")); // canonical spelling
        QCOMPARE(s.kind, tl::RunKind::Imp);
        QCOMPARE(s.head, std::string("keep"));
        QCOMPARE(s.criterion, std::string("within_std"));
        QCOMPARE(s.device, std::string("cpu"));
        QCOMPARE(s.threads, 0);
        QCOMPARE(s.seeds, std::vector<uint64_t>{0});
        QVERIFY(s.rewind.pretrained);
        QCOMPARE(s.train.lr, 2e-5);
        QCOMPARE(s.train.maxSteps, int64_t(-1));
        // Neither rounds nor target: the rounds that bring linear 0.1 to 90%, as BERT-Tickets.
        QCOMPARE(s.prune.rounds, 9);
        compareSparsities(s.prune.sparsities(), {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9});
        const json c = s.toJson();
        QCOMPARE(c["prune"]["rounds"].get<int>(), 9);
        QVERIFY(c["prune"]["target_sparsity"].is_null());
        QVERIFY(c["source"].is_null());
        QVERIFY(c["train"]["max_steps"].is_null());

        // "full" needs no prune section; one given is ignored.
        json full = minimal();
        full["kind"] = "full";
        QVERIFY(parse(full).toJson()["prune"].is_null());
        full["prune"] = {{"step", 0.3}};
        QCOMPARE(parse(full).hash(),
                 parse(json{{"model", "m"}, {"task", "RTE"}, {"data_dir", "d"}, {"kind", "full"}}).hash());
        QCOMPARE(parse(full).prune.step, 0.1);
    }

    void roundTrip()
    {
        std::vector<json> specs = {json::parse(kExample), minimal()};
        json t = minimal();
        t["kind"] = "transfer";
        t["source"] = {{"run", 3}, {"round", 2}};
        t["rewind"] = {{"step", 10}};
        t["prune"] = {{"schedule", "geometric"}, {"step", 0.2}, {"target_sparsity", 0.5}, {"method", "tensor_random"}};
        t["train"] = {{"max_steps", 7}, {"warmup", 0.1}};
        specs.push_back(t);
        json f = minimal();
        f["kind"] = "full";
        specs.push_back(f);
        json r = minimal();
        r["kind"] = "shuffle";
        r["source"] = {{"run", 4}};
        r["repeat"] = 2;
        specs.push_back(r);
        for (const json &j : specs) {
            const tl::RunSpec a = parse(j);
            const json canonical = a.toJson();
            const tl::RunSpec b = parse(canonical);
            QCOMPARE(QString::fromStdString(b.toJson().dump()), QString::fromStdString(canonical.dump()));
            QCOMPARE(b.hash(), a.hash());
            QCOMPARE(b.prune.sparsities(), a.prune.sparsities());
        }
    }

    void hashIsStable()
    {
        const tl::RunSpec a = parse(json::parse(kExample));
        QCOMPARE(a.hash().size(), size_t(16));
        // Other key order, other whitespace, other spellings of the same values.
        const tl::RunSpec b = parse(json::parse(R"({"criterion":"within_std","device":"cpu","threads":2,"seeds":[0],
            "train":{"eval_batch_size":64,"weight_decay":0.01,"warmup":0,"max_seq_len":128,"batch_size":32,
            "lr":0.00002,"epochs":1},"head":"keep","rewind":"pretrained",
            "prune":{"include_embeddings":false,"rounds":3,"step":0.1},
            "kind":"imp","data_dir":"path/to/RTE","task":"rte","model":"path/to/hf-folder"})"));
        QCOMPARE(b.hash(), a.hash());
        // Seeds are not part of it: each seed is its own run.
        json seeds = json::parse(kExample);
        seeds["seeds"] = {5, 6, 7};
        QCOMPARE(parse(seeds).hash(), a.hash());
        // Repetition 0 is the spec itself: no key, so hashes of specs from before repetitions
        // existed (and their stored runs) still match.
        json zero = json::parse(kExample);
        zero["repeat"] = 0;
        QCOMPARE(parse(zero).hash(), a.hash());
        QVERIFY(!a.toJson().contains("repeat"));
        zero["repeat"] = 3;
        QCOMPARE(parse(zero).toJson()["repeat"].get<int>(), 3);
        QCOMPARE(tl::fnv1aHex(""), std::string("cbf29ce484222325"));
        QCOMPARE(tl::fnv1aHex("a"), std::string("af63dc4c8601ec8c"));
    }

    void hashChangesWithResults_data()
    {
        QTest::addColumn<QString>("pointer");
        QTest::addColumn<QString>("value");
        row("model", "/model", R"("other")");
        row("task", "/task", R"("MRPC")");
        row("data_dir", "/data_dir", R"("other")");
        row("kind", "/kind", R"("oneshot")");
        row("method", "/prune/method", R"("tensor_magnitude")");
        row("schedule", "/prune/schedule", R"("geometric")");
        row("step", "/prune/step", "0.2");
        row("rounds", "/prune/rounds", "4");
        row("pooler", "/prune/include_pooler", "false");
        row("embeddings", "/prune/include_embeddings", "true");
        row("rewind", "/rewind", R"({"step": 0})");
        row("head", "/head", R"("reinit")");
        row("epochs", "/train/epochs", "2");
        row("max_steps", "/train/max_steps", "100");
        row("lr", "/train/lr", "3e-5");
        row("batch", "/train/batch_size", "16");
        row("seq", "/train/max_seq_len", "64");
        row("warmup", "/train/warmup", "0.1");
        row("decay", "/train/weight_decay", "0");
        row("eval_batch", "/train/eval_batch_size", "8");
        row("threads", "/threads", "4");
        row("device", "/device", R"("cuda")");
        row("criterion", "/criterion", R"("match")");
        row("repeat", "/repeat", "1");
    }

    void hashChangesWithResults()
    {
        QFETCH(QString, pointer);
        QFETCH(QString, value);
        json j = json::parse(kExample);
        j[json::json_pointer(pointer.toStdString())] = json::parse(value.toStdString());
        QVERIFY(parse(j).hash() != parse(json::parse(kExample)).hash());
    }

    void sparsities()
    {
        tl::PruneSpec p;
        p.rounds = 3;
        compareSparsities(p.sparsities(), {0.1, 0.2, 0.3});
        QCOMPARE(p.sparsities()[2], 0.3); // tidied, not 0.30000000000000004
        p.rounds = 0;
        p.targetSparsity = 0.25;
        compareSparsities(p.sparsities(), {0.1, 0.2, 0.25});
        p.targetSparsity = 0.3; // reached exactly: no extra round
        compareSparsities(p.sparsities(), {0.1, 0.2, 0.3});
        p.schedule = "geometric";
        p.step = 0.2;
        p.targetSparsity = 0;
        p.rounds = 3;
        compareSparsities(p.sparsities(), {0.2, 0.36, 0.488});
        p.rounds = 0;
        QCOMPARE(p.defaultRounds(), 11); // 1 - 0.8^11 = 0.914
        p.targetSparsity = 0.5;
        compareSparsities(p.sparsities(), {0.2, 0.36, 0.488, 0.5});
        // Through the parser.
        json j = minimal();
        j["prune"] = {{"target_sparsity", 0.25}};
        const tl::RunSpec s = parse(j);
        QCOMPARE(s.prune.numRounds(), 3);
        j["kind"] = "oneshot";
        compareSparsities(parse(j).prune.sparsities(), {0.1, 0.2, 0.25});
    }

    void badSpecsNameTheField_data()
    {
        QTest::addColumn<QString>("pointer"); // JSON pointer into minimal() to set ("" : whole spec)
        QTest::addColumn<QString>("value");   // "-" removes the field
        QTest::addColumn<QString>("field");
        row("unknown top", "/modle", R"("m")", "modle");
        row("unknown prune", "/prune", R"({"mehtod": "x"})", "prune.mehtod");
        row("unknown train", "/train", R"({"lr": 1e-5, "momentum": 0.9})", "train.momentum");
        row("lr type", "/train", R"({"lr": "fast"})", "train.lr");
        row("lr negative", "/train", R"({"lr": -1e-5})", "train.lr");
        row("batch 0", "/train", R"({"batch_size": 0})", "train.batch_size");
        row("epochs float", "/train", R"({"epochs": 1.5})", "train.epochs");
        row("max_steps 0", "/train", R"({"max_steps": 0})", "train.max_steps");
        row("warmup 1", "/train", R"({"warmup": 1.0})", "train.warmup");
        row("train type", "/train", "[]", "train");
        row("step 1.5", "/prune", R"({"step": 1.5})", "prune.step");
        row("target 1.2", "/prune", R"({"target_sparsity": 1.2})", "prune.target_sparsity");
        row("rounds 0", "/prune", R"({"rounds": 0})", "prune.rounds");
        row("both", "/prune", R"({"rounds": 2, "target_sparsity": 0.5})", "prune.target_sparsity");
        row("past 100%", "/prune", R"({"step": 0.5, "rounds": 3})", "prune.rounds");
        row("method", "/prune", R"({"method": "l1"})", "prune.method");
        row("schedule", "/prune", R"({"schedule": "cubic"})", "prune.schedule");
        row("pooler type", "/prune", R"({"include_pooler": 1})", "prune.include_pooler");
        row("prune null", "/prune", "null", "prune");
        row("seeds empty", "/seeds", "[]", "seeds");
        row("seeds dup", "/seeds", "[1, 2, 1]", "seeds[2]");
        row("seed negative", "/seeds", "[-1]", "seeds[0]");
        row("seeds type", "/seeds", "3", "seeds");
        row("kind", "/kind", R"("lottery")", "kind");
        row("criterion", "/criterion", R"("close")", "criterion");
        row("head", "/head", R"("drop")", "head");
        row("task", "/task", R"("SQuAD")", "task");
        row("model missing", "/model", "-", "model");
        row("data_dir empty", "/data_dir", R"("")", "data_dir");
        row("transfer no source", "/kind", R"("transfer")", "source");
        row("source other kind", "/source", R"({"run": 1, "round": 1})", "source");
        row("rewind -1", "/rewind", R"({"step": -1})", "rewind.step");
        row("rewind string", "/rewind", R"("finetuned")", "rewind");
        row("rewind unknown", "/rewind", R"({"steps": 3})", "rewind.steps");
        row("threads", "/threads", "-1", "threads");
        row("repeat", "/repeat", "-1", "repeat");
        row("repeat type", "/repeat", R"("again")", "repeat");
        row("device", "/device", R"("tpu")", "device");
        row("lr null", "/train", R"({"lr": null})", "train.lr");
    }

    void badSpecsNameTheField()
    {
        QFETCH(QString, pointer);
        QFETCH(QString, value);
        QFETCH(QString, field);
        json j = minimal();
        const json::json_pointer ptr(pointer.toStdString());
        if (value == QLatin1String("-"))
            j.erase(ptr.back());
        else
            j[ptr] = json::parse(value.toStdString());
        try {
            parse(j);
            QFAIL("no error");
        } catch (const tl::Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.startsWith(QStringLiteral("spec.json: field '") + field + QStringLiteral("': ")),
                     qPrintable(msg));
        }
    }

    void badSources_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("field");
        row("both", R"({"run": 1, "round": 1, "mask_file": "m"})", "source.mask_file");
        row("no round", R"({"run": 1})", "source.round");
        row("run 0", R"({"run": 0, "round": 1})", "source.run");
        row("unknown", R"({"run": 1, "round": 1, "task": "x"})", "source.task");
        row("empty file", R"({"mask_file": ""})", "source.mask_file");
    }

    void badSources()
    {
        QFETCH(QString, source);
        QFETCH(QString, field);
        json j = minimal();
        j["kind"] = "transfer";
        j["source"] = json::parse(source.toStdString());
        try {
            parse(j);
            QFAIL("no error");
        } catch (const tl::Error &e) {
            const QString msg = QString::fromUtf8(e.what());
            QVERIFY2(msg.contains(QStringLiteral("field '") + field + QStringLiteral("'")), qPrintable(msg));
        }
    }

    void reinitAndShuffleFollowTheirSourceRun_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("field"); // empty: valid
        row("run only", R"({"run": 3})", "");
        row("a round", R"({"run": 3, "round": 9})", "source.round");
        row("round 0", R"({"run": 3, "round": 0})", "source.round");
        row("mask file", R"({"mask_file": "m.npz"})", "source.mask_file");
        row("no run", R"({})", "source.run");
    }

    void reinitAndShuffleFollowTheirSourceRun()
    {
        QFETCH(QString, source);
        QFETCH(QString, field);
        for (const char *kind : {"reinit", "shuffle"}) {
            json j = minimal();
            j["kind"] = kind;
            j["source"] = json::parse(source.toStdString());
            if (field.isEmpty()) {
                const tl::RunSpec s = parse(j);
                QCOMPARE(s.source->run, int64_t(3));
                QCOMPARE(QString::fromStdString(s.toJson()["source"].dump()), QStringLiteral(R"({"run":3})"));
                continue;
            }
            try {
                parse(j);
                QFAIL("no error");
            } catch (const tl::Error &e) {
                const QString msg = QString::fromUtf8(e.what());
                QVERIFY2(msg.contains(QStringLiteral("field '") + field + QStringLiteral("'")), qPrintable(msg));
                QVERIFY2(msg.contains(QLatin1String(kind)) || field == QLatin1String("source.run"), qPrintable(msg));
            }
        }
        json none = minimal();
        none["kind"] = "reinit";
        try {
            parse(none);
            QFAIL("no error");
        } catch (const tl::Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral(R"({"run": id} (an imp run))")), e.what());
        }
    }

    void loadResolvesRelativePaths()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        QVERIFY(QDir(tmp.path()).mkpath(QStringLiteral("specs")));
        const QString path = tmp.filePath(QStringLiteral("specs/spec.json"));
        json j = minimal();
        j["model"] = "../models/bert";
        j["data_dir"] = "/abs/RTE";
        j["kind"] = "transfer";
        j["source"] = {{"mask_file", "mask.safetensors"}};
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::fromStdString(j.dump(2)));
        f.close();

        const tl::RunSpec s = tl::RunSpec::load(path.toStdString());
        // Absolute and normalised: the "../" is gone, not kept relative to the working directory.
        QCOMPARE(QString::fromStdString(s.model), QDir::cleanPath(tmp.filePath(QStringLiteral("models/bert"))));
        QCOMPARE(QString::fromStdString(s.source->maskFile), tmp.filePath(QStringLiteral("specs/mask.safetensors")));
        QCOMPARE(s.dataDir, std::string("/abs/RTE")); // absolute paths stay as written
        // fromJson alone leaves paths as written.
        QCOMPARE(parse(j).model, std::string("../models/bert"));

        // Errors name the file.
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write("{\"model\": ");
        f.close();
        try {
            tl::RunSpec::load(path.toStdString());
            QFAIL("no error");
        } catch (const tl::Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).startsWith(path), e.what());
        }
    }

    void runKindTable()
    {
        // Names and enum agree both ways; the table is in enum order.
        for (size_t i = 0; i < tl::runKindTable().size(); ++i) {
            const tl::RunKindInfo &k = tl::runKindTable()[i];
            QCOMPARE(size_t(k.kind), i);
            QCOMPARE(tl::findRunKind(k.name), std::optional<tl::RunKind>(k.kind));
            QCOMPARE(tl::runKindFromName(k.name), k.kind);
            QVERIFY(!tl::runKindLabel(k.kind).empty());
        }
        QVERIFY(!tl::findRunKind("IMP")); // names are exact
        EXPECT_ERROR(tl::runKindFromName("lottery", "--kind"), "--kind: unknown run kind 'lottery' (imp, full, ");
        // A spec takes every kind but import, and needs a source exactly where the table says.
        const std::vector<std::string> specKinds = tl::runKindNames(true);
        QCOMPARE(specKinds.size() + 1, tl::runKindTable().size());
        EXPECT_ERROR(parse({{"model", "m"}, {"task", "rte"}, {"data_dir", "d"}, {"kind", "import"}}), "field 'kind'");
        for (const std::string &name : specKinds) {
            json j = minimal();
            j["kind"] = name;
            const tl::RunKindInfo &k = tl::runKindInfo(*tl::findRunKind(name));
            if (k.needsSource) {
                EXPECT_ERROR(parse(j), "field 'source': required for kind \"" + name + "\"");
                j["source"] = k.kind == tl::RunKind::Transfer ? json{{"run", 1}, {"round", 1}} : json{{"run", 1}};
            }
            QCOMPARE(parse(j).kind, k.kind);
            j["source"] = {{"run", 1}};
            if (!k.needsSource)
                EXPECT_ERROR(parse(j), "only kinds \"reinit\", \"shuffle\", \"transfer\" take a source");
        }
        // IMP's baselines are what a study may list.
        std::vector<std::string> baselines;
        for (tl::RunKind k : tl::baselinesOf(tl::RunKind::Imp))
            baselines.push_back(tl::runKindName(k));
        QCOMPARE(baselines, (std::vector<std::string>{"full", "random", "reinit", "shuffle", "standard", "oneshot"}));
        // Reports list the full model first, then table order.
        std::vector<tl::RunKind> kinds{tl::RunKind::Shuffle, tl::RunKind::Full, tl::RunKind::Random, tl::RunKind::Imp};
        std::sort(kinds.begin(), kinds.end(), tl::fullModelFirst);
        QCOMPARE(kinds, (std::vector<tl::RunKind>{tl::RunKind::Full, tl::RunKind::Imp, tl::RunKind::Random,
                                                  tl::RunKind::Shuffle}));
        QVERIFY(!tl::fullModelFirst(tl::RunKind::Full, tl::RunKind::Full));
    }

    void transferSpecOfAStoredRun()
    {
        json j = json::parse(kExample);
        j["seeds"] = {3, 4};
        j["repeat"] = 2;
        const tl::RunSpec source = parse(j);
        const tl::RunSpec t = tl::transferSpec(source, 12, 2, "mrpc", "glue/MRPC");
        QCOMPARE(t.kind, tl::RunKind::Transfer);
        QCOMPARE(t.task, std::string("MRPC"));
        QCOMPARE(t.dataDir, (QDir::current().absoluteFilePath(QStringLiteral("glue/MRPC"))).toStdString());
        QCOMPARE(t.model, source.model); // the source's model unless given
        QCOMPARE(t.seeds, source.seeds);
        QCOMPARE(t.train.lr, source.train.lr);
        QCOMPARE(t.repeat, 0); // a repetition of the source is not one of the transfer
        QVERIFY(t.source && !t.source->fromFile());
        QCOMPARE(t.source->run, int64_t(12));
        QCOMPARE(t.source->round, 2);
        QCOMPARE(tl::transferSpec(source, 12, 2, "MRPC", "/glue/MRPC", "/models/x").model, std::string("/models/x"));
        EXPECT_ERROR(tl::transferSpec(source, 12, 2, "nope", "/glue/MRPC"), "transfer of run 12 round 2: field 'task'");
    }
};

QTEST_APPLESS_MAIN(TestRunSpec)
#include "tst_runspec.moc"

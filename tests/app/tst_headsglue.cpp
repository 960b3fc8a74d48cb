// Structured tickets on the shared GLUE data, end to end through the two programs a researcher
// uses: a heads IMP run and its random-heads baseline on RTE with a small BERT (bert-base-
// uncased's vocabulary), the importance it pruned by, the ticket exported as a compacted model
// that the reference transcription of Hugging Face's BertForSequenceClassification (transformers
// 4.x, which applies config.json's pruned_heads) loads and that gives TicketLab's logits on
// every RTE dev pair, the compacted model fine-tuned and used as the model of a new run, and
// the head views and figures of all of it.

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "testdata.h"

namespace {

using Result = tltest::CliResult;

Result cli(const QStringList &args)
{
    return tltest::runCli(args);
}

QJsonObject jsonOf(const Result &r)
{
    return QJsonDocument::fromJson(r.out).object();
}

/// The rows of a CSV file (header included), split at commas (the figures' CSVs here hold no
/// quoted commas in the columns read).
QList<QStringList> csvRows(const QString &path)
{
    QFile f(path);
    QList<QStringList> rows;
    if (!f.open(QIODevice::ReadOnly))
        return rows;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (!line.trimmed().isEmpty())
            rows << QString::fromUtf8(line.trimmed()).split(QLatin1Char(','));
    return rows;
}

} // namespace

class TestHeadsGlue : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_data, m_db, m_model;
    qint64 m_imp = 0, m_random = 0;

    QString path(const QString &name) const { return m_dir.filePath(name); }
    QString rte() const { return m_data + QStringLiteral("/glue/RTE"); }

    QString writeSpec(const QString &name, const QString &json)
    {
        const QString file = path(name + QStringLiteral(".json"));
        QFile f(file);
        if (f.open(QIODevice::WriteOnly))
            f.write(json.toUtf8());
        return file;
    }

    qint64 run(const QString &spec)
    {
        const Result r = cli({QStringLiteral("run"), spec, QStringLiteral("--db"), m_db});
        if (r.exitCode != 0)
            qWarning("%s", r.err.right(2000).constData());
        return r.exitCode == 0 ? r.out.trimmed().toLongLong() : -1;
    }

    /// `analyze heads` of a stored round as JSON entries.
    QJsonArray headEntries(qint64 run, int round)
    {
        const Result r = cli({QStringLiteral("analyze"), QStringLiteral("head-survival"), QStringLiteral("--db"), m_db,
                              QStringLiteral("--run"), QString::number(run), QStringLiteral("--round"),
                              QString::number(round), QStringLiteral("--format"), QStringLiteral("json")});
        if (r.exitCode != 0)
            qWarning("%s", r.err.right(2000).constData());
        return jsonOf(r)[QStringLiteral("entries")].toArray();
    }

    /// Runs the GUI program's export-figure; returns its exit code.
    int exportFigure(const QStringList &args)
    {
        QProcess p;
        p.start(QStringLiteral(TICKETLAB_GUI),
                QStringList{QStringLiteral("export-figure"), QStringLiteral("--db"), m_db} + args);
        if (!p.waitForFinished(120000))
            return -1;
        if (p.exitCode() != 0)
            qWarning("%s", p.readAllStandardError().constData());
        return p.exitCode();
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_data = tltest::sharedDataDir();
        if (m_data.isEmpty())
            return; // each test skips with the message
        m_db = path(QStringLiteral("lab.db"));
        m_model = path(QStringLiteral("model"));
        // 2 layers of 4 heads (d = 8), FFN 64: a linear step of 0.25 removes 2 of the 8 heads a round.
        QFile cfg(path(QStringLiteral("shape.json")));
        QVERIFY(cfg.open(QIODevice::WriteOnly));
        cfg.write(R"({"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "intermediate_size": 64, "max_position_embeddings": 128, "vocab_size": 30522})");
        cfg.close();
        const QString init = path(QStringLiteral("init"));
        EXPECT_OK(cli({QStringLiteral("init"), QStringLiteral("--config"), cfg.fileName(), QStringLiteral("--vocab"),
                       m_data + QStringLiteral("/vocab/bert-base-uncased/vocab.txt"), QStringLiteral("--out"), init,
                       QStringLiteral("--seed"), QStringLiteral("4")}));
        // A few steps on RTE give the folder a classifier, which the compacted ticket then carries.
        EXPECT_OK(
            cli({QStringLiteral("finetune"), QStringLiteral("--model"), init, QStringLiteral("--task"),
                 QStringLiteral("RTE"), QStringLiteral("--data-dir"), rte(), QStringLiteral("--out"), m_model,
                 QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--max-steps"), QStringLiteral("4"),
                 QStringLiteral("--max-seq-len"), QStringLiteral("64"), QStringLiteral("--threads"),
                 QStringLiteral("1"), QStringLiteral("--progress"), QStringLiteral("none")}));
        const QString spec = QStringLiteral(R"({"model": "%1", "task": "RTE", "data_dir": "%2", "kind": "%3",
            "prune": {"method": "heads", "schedule": "linear", "step": 0.25, "rounds": 2, "importance_examples": 64},
            "train": {"epochs": 1, "max_steps": 8, "lr": 1e-3, "batch_size": 16, "max_seq_len": 64},
            "seeds": [0], "threads": 1})");
        m_imp = run(writeSpec(QStringLiteral("imp"), spec.arg(m_model, rte(), QStringLiteral("imp"))));
        m_random = run(writeSpec(QStringLiteral("random"), spec.arg(m_model, rte(), QStringLiteral("random"))));
    }

    void headsRunAndItsRandomBaseline()
    {
        TL_REQUIRE_SHARED_DATA(data);
        QVERIFY(m_imp > 0);
        QVERIFY(m_random > 0);
        for (const qint64 id : {m_imp, m_random}) {
            const QJsonObject shown = tltest::showRun(m_db, id);
            const QJsonArray rounds = shown[QStringLiteral("rounds")].toArray();
            QCOMPARE(rounds.size(), 3);
            for (int k = 0; k <= 2; ++k) {
                const QJsonArray heads = headEntries(id, k);
                QCOMPARE(heads.size(), 8);
                int dead = 0;
                for (const QJsonValue h : heads)
                    dead += h[QStringLiteral("kept")].toInteger() == 0;
                QCOMPARE(dead, 2 * k);
                // Every round was fine-tuned and evaluated on all 277 dev pairs.
                const double acc = rounds[k][QStringLiteral("metrics")][QStringLiteral("accuracy")].toDouble(-1);
                QVERIFY2(acc >= 0.3 && acc <= 0.7, qPrintable(QString::number(acc)));
            }
        }
        // Same counts, but IMP removed heads by importance: the two rounds-1 masks differ unless
        // the seeded draw happened to pick IMP's heads (the test's seed does not).
        QVERIFY(headEntries(m_imp, 1) != headEntries(m_random, 1));
    }

    void importanceOfTheTicket()
    {
        TL_REQUIRE_SHARED_DATA(data);
        QVERIFY(m_imp > 0);
        // Scored on the subnetwork of round 2 over RTE dev: the heads it removed have no output,
        // so no gradient reaches their gates: importance exactly 0; every other head scores.
        const Result r = cli({QStringLiteral("analyze"),        QStringLiteral("head-importance"),
                              QStringLiteral("--model"),        m_model,
                              QStringLiteral("--task"),         QStringLiteral("RTE"),
                              QStringLiteral("--data-dir"),     rte(),
                              QStringLiteral("--split"),        QStringLiteral("dev"),
                              QStringLiteral("--max-examples"), QStringLiteral("64"),
                              QStringLiteral("--mask-from-db"), m_db,
                              QStringLiteral("--run"),          QString::number(m_imp),
                              QStringLiteral("--round"),        QStringLiteral("2"),
                              QStringLiteral("--format"),       QStringLiteral("json")});
        EXPECT_OK(r);
        const QJsonArray scores = jsonOf(r)[QStringLiteral("heads")].toArray();
        QCOMPARE(scores.size(), 2);
        const QJsonArray entries = headEntries(m_imp, 2);
        int zero = 0;
        for (const QJsonValue e : entries) {
            const double s = scores[e[QStringLiteral("layer")].toInt()][e[QStringLiteral("head")].toInt()].toDouble();
            if (e[QStringLiteral("kept")].toInteger() == 0) {
                QCOMPARE(s, 0.0);
                ++zero;
            } else {
                QVERIFY(s > 0);
            }
        }
        QCOMPARE(zero, 4);
    }

    void compactedTicketMatchesHuggingFace()
    {
        TL_REQUIRE_SHARED_DATA(data);
        QVERIFY(m_imp > 0);
        const QString out = path(QStringLiteral("compact"));
        const Result c = cli({QStringLiteral("export-compact"), QStringLiteral("--db"), m_db, QStringLiteral("--run"),
                              QString::number(m_imp), QStringLiteral("--round"), QStringLiteral("2"),
                              QStringLiteral("--out"), out, QStringLiteral("--format"), QStringLiteral("json")});
        EXPECT_OK(c);
        QCOMPARE(jsonOf(c)[QStringLiteral("heads_removed")].toInt(), 4);
        QCOMPARE(jsonOf(c)[QStringLiteral("neurons_removed")].toInt(), 0);
        QVERIFY(jsonOf(c)[QStringLiteral("classifier")].toBool()); // the run's model folder has one

        // TicketLab's logits of the compacted folder on every RTE dev pair...
        const QString dev = rte() + QStringLiteral("/dev.tsv");
        const Result pred = cli({QStringLiteral("predict"), QStringLiteral("--model"), out, QStringLiteral("--task"),
                                 QStringLiteral("RTE"), QStringLiteral("--data"), dev, QStringLiteral("--max-seq-len"),
                                 QStringLiteral("64")});
        EXPECT_OK(pred);
        const QList<QJsonObject> ours = pred.jsonLines();
        QCOMPARE(ours.size(), 277);
        // ...and its token ids, padded into one batch for the reference.
        const Result tok = cli({QStringLiteral("tokenize"), QStringLiteral("--vocab"), out, QStringLiteral("--task"),
                                QStringLiteral("RTE"), QStringLiteral("--data"), dev, QStringLiteral("--max-seq-len"),
                                QStringLiteral("64")});
        EXPECT_OK(tok);
        const QList<QJsonObject> lines = tok.jsonLines();
        QCOMPARE(lines.size(), 277);
        int longest = 0;
        for (const QJsonObject &l : lines)
            longest = std::max(longest, int(l[QStringLiteral("input_ids")].toArray().size()));
        QJsonArray ids, types, mask;
        for (const QJsonObject &l : lines) {
            QJsonArray i = l[QStringLiteral("input_ids")].toArray(), t = l[QStringLiteral("token_type_ids")].toArray(),
                       m;
            for (int k = 0; k < i.size(); ++k)
                m.append(1);
            while (i.size() < longest) {
                i.append(0);
                t.append(0);
                m.append(0);
            }
            ids.append(i);
            types.append(t);
            mask.append(m);
        }
        const QString python = tltest::pythonWithTorch();
        if (python.isEmpty())
            TL_SKIP("python3 with torch and numpy is not installed (apt-get install python3-torch python3-numpy)");
        const QString inPath = path(QStringLiteral("inputs.json")), outPath = path(QStringLiteral("reference.json"));
        QFile in(inPath);
        QVERIFY(in.open(QIODevice::WriteOnly));
        in.write(QJsonDocument(QJsonObject{{QStringLiteral("input_ids"), ids},
                                           {QStringLiteral("token_type_ids"), types},
                                           {QStringLiteral("attention_mask"), mask}})
                     .toJson(QJsonDocument::Compact));
        in.close();
        QProcess py;
        py.start(python,
                 {QStringLiteral(TICKETLAB_SOURCE_DIR "/tests/reference/hf_bert_reference.py"), out, inPath, outPath});
        QVERIFY(py.waitForFinished(300000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        QFile r(outPath);
        QVERIFY(r.open(QIODevice::ReadOnly));
        const QJsonArray ref = QJsonDocument::fromJson(r.readAll()).object()[QStringLiteral("logits")].toArray();
        QCOMPARE(ref.size(), 277);
        double diff = 0, scale = 0;
        for (int i = 0; i < 277; ++i) {
            const QJsonArray a = ours[i][QStringLiteral("logits")].toArray(), b = ref[i].toArray();
            QCOMPARE(a.size(), 2);
            QCOMPARE(b.size(), 2);
            for (int j = 0; j < 2; ++j) {
                diff = std::max(diff, std::abs(a[j].toDouble() - b[j].toDouble()));
                scale = std::max(scale, std::abs(b[j].toDouble()));
            }
        }
        qInfo("RTE dev (277 pairs), compacted ticket: max |logit diff| TicketLab vs HF reference %.2e (scale %.2f)",
              diff, scale);
        QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));
        QVERIFY2(diff < 1e-4 * scale, qPrintable(QString::number(diff / scale))); // relative, too: the logits are small
    }

    void compactedModelTrainsAndRunsOnItsOwn()
    {
        TL_REQUIRE_SHARED_DATA(data);
        const QString compact = path(QStringLiteral("compact"));
        QVERIFY2(QFile::exists(compact + QStringLiteral("/config.json")), "compactedTicketMatchesHuggingFace first");
        // Fine-tuning the compacted folder trains the ticket with its heads gone for real.
        const QString tuned = path(QStringLiteral("tuned"));
        EXPECT_OK(cli({QStringLiteral("finetune"),
                       QStringLiteral("--model"),
                       compact,
                       QStringLiteral("--task"),
                       QStringLiteral("RTE"),
                       QStringLiteral("--data-dir"),
                       rte(),
                       QStringLiteral("--out"),
                       tuned,
                       QStringLiteral("--epochs"),
                       QStringLiteral("1"),
                       QStringLiteral("--max-steps"),
                       QStringLiteral("4"),
                       QStringLiteral("--batch-size"),
                       QStringLiteral("16"),
                       QStringLiteral("--max-seq-len"),
                       QStringLiteral("64"),
                       QStringLiteral("--lr"),
                       QStringLiteral("1e-3"),
                       QStringLiteral("--progress"),
                       QStringLiteral("none")}));
        QFile cfg(tuned + QStringLiteral("/config.json"));
        QVERIFY(cfg.open(QIODevice::ReadOnly));
        const QJsonObject pruned =
            QJsonDocument::fromJson(cfg.readAll()).object()[QStringLiteral("pruned_heads")].toObject();
        int removed = 0;
        for (const QString &layer : pruned.keys())
            removed += int(pruned[layer].toArray().size());
        QCOMPARE(removed, 4);

        // The compacted model as the model of a new (magnitude) run: its head views show the
        // heads the model no longer has as removed, not an error.
        const qint64 onCompact =
            run(writeSpec(QStringLiteral("on-compact"),
                          QStringLiteral(R"({"model": "%1", "task": "RTE", "data_dir": "%2", "kind": "imp",
                "prune": {"step": 0.2, "rounds": 1}, "train": {"epochs": 1, "max_steps": 4, "batch_size": 16,
                "max_seq_len": 64}, "seeds": [0], "threads": 1})")
                              .arg(compact, rte())));
        QVERIFY(onCompact > 0);
        const QJsonArray entries = headEntries(onCompact, 1);
        QCOMPARE(entries.size(), 8); // the original 2 x 4 grid
        int gone = 0;
        for (const QJsonValue e : entries) {
            if (e[QStringLiteral("removed_from_model")].toBool()) {
                ++gone;
                QCOMPARE(e[QStringLiteral("total")].toInteger(), qint64(0));
            } else {
                // Magnitude pruning at 20% leaves every remaining head most of its weights.
                QVERIFY(e[QStringLiteral("fraction")].toDouble() > 0.5);
            }
        }
        QCOMPARE(gone, 4);
        // The same heads the IMP round-2 ticket removed.
        const QJsonArray ticket = headEntries(m_imp, 2);
        for (int i = 0; i < 8; ++i)
            QCOMPARE(entries[i][QStringLiteral("removed_from_model")].toBool(),
                     ticket[i][QStringLiteral("kept")].toInteger() == 0);
        const QString fig = path(QStringLiteral("compact-heads.svg"));
        QCOMPARE(exportFigure({QStringLiteral("--figure"), QStringLiteral("head-survival"), QStringLiteral("--runs"),
                               QString::number(onCompact), QStringLiteral("--out"), fig}),
                 0);
        const auto rows = csvRows(path(QStringLiteral("compact-heads.csv")));
        QCOMPARE(rows.size(), 9);
        int zeroTotal = 0;
        for (int i = 1; i < rows.size(); ++i)
            zeroTotal += rows[i].value(5) == QLatin1String("0");
        QCOMPARE(zeroTotal, 4);
    }

    void headFiguresOfTheRuns()
    {
        TL_REQUIRE_SHARED_DATA(data);
        QVERIFY(m_imp > 0 && m_random > 0);
        const QString runs = QString::number(m_imp) + QLatin1Char(',') + QString::number(m_random);
        // Importance as scored after round 1 (the scores round 2's prune used).
        QCOMPARE(exportFigure({QStringLiteral("--figure"), QStringLiteral("head-importance"), QStringLiteral("--runs"),
                               QString::number(m_imp), QStringLiteral("--round"), QStringLiteral("1"),
                               QStringLiteral("--out"), path(QStringLiteral("importance.svg"))}),
                 0);
        const auto imp = csvRows(path(QStringLiteral("importance.csv")));
        QCOMPARE(imp.size(), 9);
        int scored = 0;
        for (int i = 1; i < imp.size(); ++i)
            scored += !imp[i].value(8).isEmpty();
        QCOMPARE(scored, 8);
        // Structure: round 2 of each run has 4 of 8 heads alive.
        QCOMPARE(exportFigure({QStringLiteral("--figure"), QStringLiteral("head-survival"), QStringLiteral("--runs"),
                               runs, QStringLiteral("--head-mode"), QStringLiteral("structure"),
                               QStringLiteral("--out"), path(QStringLiteral("structure.png"))}),
                 0);
        const auto st = csvRows(path(QStringLiteral("structure.csv")));
        QCOMPARE(st.size(), 17);
        int alive = 0;
        for (int i = 1; i < st.size(); ++i)
            alive += st[i].value(8) == QLatin1String("1");
        QCOMPARE(alive, 8);
        // Stability across the two runs: the counts per head add up to the heads each kept.
        QCOMPARE(exportFigure({QStringLiteral("--figure"), QStringLiteral("head-stability"), QStringLiteral("--runs"),
                               runs, QStringLiteral("--out"), path(QStringLiteral("stability.pdf"))}),
                 0);
        const auto stab = csvRows(path(QStringLiteral("stability.csv")));
        QCOMPARE(stab.size(), 9);
        int kept = 0;
        for (int i = 1; i < stab.size(); ++i)
            kept += stab[i].value(2).toInt();
        QCOMPARE(kept, 8);
        // Metric against the fraction of heads removed: 0, 0.25 and 0.5 for the IMP series.
        QCOMPARE(exportFigure({QStringLiteral("--figure"), QStringLiteral("metric-vs-sparsity"),
                               QStringLiteral("--runs"), runs, QStringLiteral("--x-axis"), QStringLiteral("heads"),
                               QStringLiteral("--out"), path(QStringLiteral("mvs.svg"))}),
                 0);
        const auto mvs = csvRows(path(QStringLiteral("mvs.csv")));
        QStringList removed;
        for (int i = 1; i < mvs.size(); ++i)
            if (mvs[i].value(2) == QLatin1String("IMP"))
                removed << mvs[i].value(7);
        QCOMPARE(removed, (QStringList{QStringLiteral("0"), QStringLiteral("0.25"), QStringLiteral("0.5")}));
    }
};

QTEST_GUILESS_MAIN(TestHeadsGlue)
#include "tst_headsglue.moc"

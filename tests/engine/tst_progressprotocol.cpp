// The CLI <-> GUI progress protocol: what the writer (ticketlab-cli run --progress json) prints,
// the reader (the desktop app's run queue, study run) reads back unchanged.

#include <QtTest>

#include <cmath>
#include <limits>

#include "engine/progress_protocol.h"

using tl::RunEvent;
using tl::RunEventType;

namespace {

/// Every field set, none to its default.
RunEvent fullEvent(RunEventType type)
{
    RunEvent e;
    e.type = type;
    e.runId = 42;
    e.seed = 18446744073709551557ull; // beyond int64
    e.round = 3;
    e.rounds = 9;
    e.sparsity = 0.271;
    e.step = 17;
    e.totalSteps = 250;
    e.loss = 0.6931;
    e.lr = 1.5e-5;
    e.tokensPerSecond = 1234.5;
    e.etaSeconds = 61.25;
    e.metrics = {{"main", 0.8125}, {"accuracy", 0.8125}, {"f1", 0.79}};
    e.resumed = true;
    e.reused = true;
    return e;
}

} // namespace

class TestProgressProtocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void eventsRoundTrip_data()
    {
        QTest::addColumn<int>("type");
        for (RunEventType t : {RunEventType::RunStart, RunEventType::RoundStart, RunEventType::Progress,
                               RunEventType::RoundDone, RunEventType::RunDone})
            QTest::newRow(tl::runEventTypeName(t).c_str()) << int(t);
    }

    void eventsRoundTrip()
    {
        QFETCH(int, type);
        const RunEvent sent = fullEvent(RunEventType(type));
        const std::string line = tl::runEventToJson(sent).dump(); // what the CLI prints, one line
        QVERIFY(line.find('\n') == std::string::npos);
        const auto parsed = tl::parseProgressLine(line); // what the app reads
        QVERIFY2(parsed && !parsed->done, line.c_str());
        const RunEvent &got = parsed->event;
        QCOMPARE(int(got.type), type);
        QCOMPARE(got.runId, sent.runId);
        QCOMPARE(got.seed, sent.seed);
        QCOMPARE(got.round, sent.round);
        QCOMPARE(got.rounds, sent.rounds);
        QCOMPARE(got.sparsity, sent.sparsity);
        // Each type carries its own fields; the others read as defaults.
        const bool progress = sent.type == RunEventType::Progress;
        QCOMPARE(got.step, progress ? sent.step : 0);
        QCOMPARE(got.totalSteps, progress ? sent.totalSteps : 0);
        QCOMPARE(got.loss, progress ? sent.loss : 0.0);
        QCOMPARE(got.lr, progress ? sent.lr : 0.0);
        QCOMPARE(got.tokensPerSecond, progress ? sent.tokensPerSecond : 0.0);
        QCOMPARE(got.etaSeconds, progress ? sent.etaSeconds : 0.0);
        QCOMPARE(got.metrics.size(), sent.type == RunEventType::RoundDone ? sent.metrics.size() : size_t(0));
        if (sent.type == RunEventType::RoundDone)
            QVERIFY(got.metrics == sent.metrics);
        QCOMPARE(got.resumed, sent.type == RunEventType::RunStart);
        QCOMPARE(got.reused, sent.type == RunEventType::RunStart);
    }

    void doneLineRoundTrips()
    {
        tl::RunOutcome outcome;
        outcome.runIds = {3, 4, 9};
        outcome.seeds = {0, 1, 2};
        outcome.actions = {"new", "resumed", "done"};
        outcome.cancelled = true;
        const auto parsed = tl::parseProgressLine(tl::runsDoneToJson(outcome).dump());
        QVERIFY(parsed && parsed->done);
        QCOMPARE(parsed->outcome.runIds, outcome.runIds);
        QCOMPARE(parsed->outcome.actions, outcome.actions);
        QCOMPARE(parsed->outcome.cancelled, true);
        outcome.cancelled = false;
        QCOMPARE(tl::parseProgressLine(tl::runsDoneToJson(outcome).dump())->outcome.cancelled, false);
    }

    void strayLinesAreNotEvents()
    {
        for (const char *line : {"", "   ", "warning: something", "[1, 2]", "42", R"({"run": 3})",
                                 R"({"event": "bogus"})", R"({"event": "tick", "run": 1})", R"({"event": 7})"})
            QVERIFY2(!tl::parseProgressLine(line), line);
        // Wrong types in known fields read as defaults rather than failing the reader.
        const auto odd = tl::parseProgressLine(R"({"event": "progress", "run": "x", "step": 5, "loss": null})");
        QVERIFY(odd && !odd->done);
        QCOMPARE(odd->event.runId, int64_t(0));
        QCOMPARE(odd->event.step, int64_t(5));
        QCOMPARE(odd->event.loss, 0.0);
        // Numbers out of an integer field's range, or not integers, read as absent: found by
        // fuzz_progress, where get<int>() of 2e37 was a float-to-int cast out of range.
        const auto huge = tl::parseProgressLine(
            R"({"event": "round_done", "round": 2e37, "rounds": 3.5, "run": 18446744073709551615, "seed": -1,
                "step": -9223372036854775808, "total_steps": 1e300})");
        QVERIFY(huge);
        QCOMPARE(huge->event.round, 0);
        QCOMPARE(huge->event.rounds, 0);
        QCOMPARE(huge->event.runId, int64_t(0));
        QCOMPARE(huge->event.seed, uint64_t(0));
        QCOMPARE(huge->event.step, std::numeric_limits<int64_t>::min());
        QCOMPARE(huge->event.totalSteps, int64_t(0));
    }

    void eventTypeNames()
    {
        for (RunEventType t : {RunEventType::RunStart, RunEventType::RoundStart, RunEventType::Progress,
                               RunEventType::Tick, RunEventType::RoundDone, RunEventType::RunDone})
            QCOMPARE(tl::findRunEventType(tl::runEventTypeName(t)), std::optional<RunEventType>(t));
        QCOMPARE(tl::runEventTypeName(RunEventType::RoundDone), std::string("round_done"));
        QVERIFY(!tl::findRunEventType("done")); // the closing line is not an event
    }

    void fractionDone()
    {
        RunEvent e;
        e.rounds = 3; // rounds 0..3: four parts
        e.type = RunEventType::RoundStart;
        e.round = 1;
        QCOMPARE(tl::runFractionDone(e), 0.25);
        e.type = RunEventType::Progress;
        e.step = 5;
        e.totalSteps = 10;
        QCOMPARE(tl::runFractionDone(e), 0.375);
        e.step = 50; // past the total (a resumed count): clamped to the round
        QCOMPARE(tl::runFractionDone(e), 0.5);
        e.type = RunEventType::RoundDone;
        e.round = 3;
        QCOMPARE(tl::runFractionDone(e), 1.0);
        e.type = RunEventType::RunDone;
        e.round = 0;
        QCOMPARE(tl::runFractionDone(e), 1.0);
        e.type = RunEventType::Progress;
        e.round = 7; // beyond rounds: never above 1
        QVERIFY(tl::runFractionDone(e) <= 1.0);
    }

    void durations()
    {
        QCOMPARE(tl::formatDuration(0), std::string("0s"));
        QCOMPARE(tl::formatDuration(42.4), std::string("42s"));
        QCOMPARE(tl::formatDuration(59.6), std::string("1m00s"));
        QCOMPARE(tl::formatDuration(187), std::string("3m07s"));
        QCOMPARE(tl::formatDuration(7500), std::string("2h05m"));
        QCOMPARE(tl::formatDuration(-1), std::string("?"));
        QCOMPARE(tl::formatDuration(std::nan("")), std::string("?"));
        QCOMPARE(tl::formatDuration(std::numeric_limits<double>::infinity()), std::string("?"));
    }
};

QTEST_APPLESS_MAIN(TestProgressProtocol)
#include "tst_progressprotocol.moc"

#pragma once

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QString>
#include <QtTest>

#include <functional>

#include "util/error.h"

namespace tltest {

/// The tl::Error message of f(), or a null string when it did not throw.
template <class F> inline QString errorOf(F &&f)
{
    try {
        f();
    } catch (const tl::Error &e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

/// The shared real data (GLUE, vocab, corpus): $TICKETLAB_DATA, else ../shared/data
/// beside the source tree. Empty when absent.
inline QString sharedDataDir()
{
    QString dir = qEnvironmentVariable("TICKETLAB_DATA");
    if (dir.isEmpty())
        dir = QStringLiteral(TICKETLAB_DEFAULT_DATA);
    return QDir(dir).exists() ? QDir(dir).absolutePath() : QString();
}

inline std::string str(const QString &s)
{
    return s.toStdString();
}

/// A Python 3 that imports torch (Debian's python3-torch), or empty.
inline QString pythonWithTorch()
{
    for (const QString &candidate : {QStringLiteral("python3"), QStringLiteral("/usr/bin/python3")}) {
        QProcess probe;
        probe.start(candidate, {QStringLiteral("-c"), QStringLiteral("import torch, numpy")});
        if (probe.waitForFinished(120000) && probe.exitStatus() == QProcess::NormalExit && probe.exitCode() == 0)
            return candidate;
    }
    return {};
}

/// What a run of the real ticketlab-cli printed.
struct CliResult
{
    int exitCode = -1; ///< -1 when it crashed or was killed
    QByteArray out, err;
    /// stdout's non-empty lines as JSON objects (`--progress json`, `--format json`).
    QList<QJsonObject> jsonLines() const
    {
        QList<QJsonObject> lines;
        for (const QByteArray &line : out.split('\n'))
            if (!line.trimmed().isEmpty())
                lines.append(QJsonDocument::fromJson(line).object());
        return lines;
    }
};

/// Runs the ticketlab-cli this build made (TICKETLAB_CLI), killing it after timeoutMs.
inline CliResult runCli(const QStringList &args, int timeoutMs = 600000)
{
    QProcess p;
    p.start(QStringLiteral(TICKETLAB_CLI), args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    CliResult r;
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

/// Starts ticketlab-cli with `args` (they should ask for `--progress json`), reads its event
/// lines until `when` holds for one, then SIGKILLs it and waits for it to end. False when the
/// process ended or said nothing for timeoutMs first.
inline bool killCliWhen(const QStringList &args, const std::function<bool(const QJsonObject &)> &when,
                        int timeoutMs = 120000)
{
    QProcess p;
    p.start(QStringLiteral(TICKETLAB_CLI), args);
    if (!p.waitForStarted())
        return false;
    bool seen = false;
    while (!seen && (p.canReadLine() || p.waitForReadyRead(timeoutMs)))
        while (!seen && p.canReadLine())
            seen = when(QJsonDocument::fromJson(p.readLine()).object());
    p.kill(); // SIGKILL; a no-op once it ended (::kill(processId()) then would be kill(0): the test itself)
    p.waitForFinished();
    return seen && p.exitStatus() == QProcess::CrashExit;
}

/// `ticketlab-cli show RUN --db DB --format json`: the run with its rounds.
inline QJsonObject showRun(const QString &db, qint64 run)
{
    const CliResult r = runCli({QStringLiteral("show"), QString::number(run), QStringLiteral("--db"), db,
                                QStringLiteral("--format"), QStringLiteral("json")});
    return QJsonDocument::fromJson(r.out).object();
}

} // namespace tltest

/// Expects expr to throw a tl::Error whose message contains fragment.
#define EXPECT_ERROR(expr, fragment)                                                                                   \
    do {                                                                                                               \
        bool thrown = false;                                                                                           \
        try {                                                                                                          \
            expr;                                                                                                      \
        } catch (const tl::Error &e) {                                                                                 \
            thrown = true;                                                                                             \
            QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());                             \
        }                                                                                                              \
        QVERIFY2(thrown, "no tl::Error from " #expr);                                                                  \
    } while (0)

/// Expects a CliResult to have exited with 0, showing the end of its stderr otherwise.
#define EXPECT_OK(result) QVERIFY2((result).exitCode == 0, (result).err.right(2000).constData())

namespace tltest {
/// True when TICKETLAB_REQUIRE_DATA is set to anything but "" or "0" (CI sets it): a test that
/// would skip for missing shared data, python3-torch or a validator fails instead.
inline bool requireData()
{
    const QByteArray v = qgetenv("TICKETLAB_REQUIRE_DATA");
    return !v.isEmpty() && v != "0";
}
inline QByteArray skipMessage(const char *message)
{
    return QByteArray(message);
}
inline QByteArray skipMessage(const QString &message)
{
    return message.toUtf8();
}
} // namespace tltest

/// Skips the current test with message (a C string or QString), or fails it with the same
/// message when tltest::requireData(). A macro: QSKIP/QFAIL must return from the test itself.
#define TL_SKIP(message)                                                                                               \
    do {                                                                                                               \
        const QByteArray tlSkipMessage_ = tltest::skipMessage(message);                                                \
        if (tltest::requireData())                                                                                     \
            QFAIL(("TICKETLAB_REQUIRE_DATA is set: " + tlSkipMessage_).constData());                                   \
        QSKIP(tlSkipMessage_.constData());                                                                             \
    } while (false)

/// Skips (or, under TICKETLAB_REQUIRE_DATA, fails) the current test with a clear message when
/// the shared data is not there.
#define TL_REQUIRE_SHARED_DATA(dirVar)                                                                                 \
    const QString dirVar = tltest::sharedDataDir();                                                                    \
    if (dirVar.isEmpty())                                                                                              \
    TL_SKIP("shared data not found: set TICKETLAB_DATA to the folder holding glue/, vocab/ "                           \
            "and corpus/ (default ../shared/data beside the source tree)")

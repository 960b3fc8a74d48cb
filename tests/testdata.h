#pragma once

#include <QDir>
#include <QProcess>
#include <QString>
#include <QtTest>

namespace tltest {

/// The shared real data (GLUE, vocab, corpus): $TICKETLAB_DATA, else ../shared/data
/// beside the source tree. Empty when absent.
inline QString sharedDataDir()
{
    QString dir = qEnvironmentVariable("TICKETLAB_DATA");
    if (dir.isEmpty())
        dir = QStringLiteral(TICKETLAB_DEFAULT_DATA);
    return QDir(dir).exists() ? QDir(dir).absolutePath() : QString();
}

inline std::string str(const QString &s) { return s.toStdString(); }

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

} // namespace tltest

/// Skips the current test with a clear message when the shared data is not there.
#define TL_REQUIRE_SHARED_DATA(dirVar)                                                           \
    const QString dirVar = tltest::sharedDataDir();                                              \
    if (dirVar.isEmpty())                                                                        \
        QSKIP("shared data not found: set TICKETLAB_DATA to the folder holding glue/, vocab/ "  \
              "and corpus/ (default ../shared/data beside the source tree)")

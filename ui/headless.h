#pragma once

#include <QStringList>

namespace tl::ui {

/// `ticketlab export-figure ...` (arguments after the command name): builds figures from an
/// experiment database and writes them without showing a window. Needs a QApplication (the
/// caller selects the offscreen platform when there is no display). Returns the exit code;
/// errors go to stderr naming the option, file, run or round.
int runExportFigure(const QStringList &arguments);

} // namespace tl::ui

// ticketlab: the desktop app, and `ticketlab export-figure` for figures without a display.

#include <QApplication>
#include <QStringList>

#include <cstdlib>
#include <cstring>

#include "headless.h"
#include "mainwindow.h"

int main(int argc, char **argv)
{
    const bool exportFigure = argc > 1 && std::strcmp(argv[1], "export-figure") == 0;
    // Headless export must work on servers: without a display, draw offscreen.
    if (exportFigure && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("TicketLab"));
    QApplication::setApplicationVersion(QStringLiteral(TICKETLAB_VERSION));
    QApplication::setOrganizationName(QStringLiteral("TicketLab"));
    QGuiApplication::setDesktopFileName(QStringLiteral("io.github.ticketlab.TicketLab"));
    if (exportFigure)
        return tl::ui::runExportFigure(QApplication::arguments().mid(2));

    QStringList args = QApplication::arguments().mid(1);
    if (args.contains(QStringLiteral("--help")) || args.contains(QStringLiteral("-h"))) {
        std::printf("Usage: ticketlab [DATABASE]\n"
                    "       ticketlab export-figure --help\n\n"
                    "Opens the TicketLab desktop app on an experiment database (default: the last one opened).\n");
        return 0;
    }
    if (args.contains(QStringLiteral("--version"))) {
        std::printf("ticketlab %s\n", TICKETLAB_VERSION);
        return 0;
    }
    tl::ui::MainWindow window;
    window.show();
    if (!args.isEmpty())
        window.openDatabase(args.first());
    else
        window.openLastDatabase();
    return QApplication::exec();
}

// ticketlab: the desktop app.

#include <QApplication>

#include "mainwindow.h"

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("TicketLab"));
    QApplication::setApplicationVersion(QStringLiteral(TICKETLAB_VERSION));
    QApplication::setOrganizationName(QStringLiteral("TicketLab"));
    MainWindow window;
    window.show();
    return QApplication::exec();
}

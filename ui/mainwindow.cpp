#include "mainwindow.h"

#include <QLabel>
#include <QMenuBar>
#include <QStatusBar>

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    setWindowTitle(tr("TicketLab"));
    auto *label = new QLabel(tr("<h2>TicketLab</h2><p>Lottery tickets in pre-trained BERT.</p>"
                                "<p>The engine runs from the command line today: "
                                "<code>ticketlab-cli --help</code>.</p>"),
                             this);
    label->setAlignment(Qt::AlignCenter);
    setCentralWidget(label);
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    statusBar()->showMessage(tr("Ready"));
    resize(960, 640);
}

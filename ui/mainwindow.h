#pragma once

#include <QMainWindow>

/// The TicketLab main window. For now a shell: the experiment browser, run views and plots
/// arrive with the desktop-app work; the engine is usable from ticketlab-cli today.
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(QWidget *parent = nullptr);
};

#pragma once

#include <QDialog>

class QComboBox;
class QLineEdit;

namespace tl::ui {

/// Asks where to transfer the mask of a stored run and round: the target task (any known task,
/// or mlm) and its data folder. The caller builds the transfer spec from the source run's spec
/// and checks it as the new-run dialog does.
class TransferDialog : public QDialog
{
    Q_OBJECT

public:
    TransferDialog(qint64 run, int round, QWidget *parent = nullptr);

    QString task() const;
    /// The target data folder as an absolute path.
    QString dataDir() const;

private:
    QComboBox *m_task = nullptr;
    QLineEdit *m_dataDir = nullptr;
};

} // namespace tl::ui
